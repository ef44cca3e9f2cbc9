"""Domain 5, a company's HR: departments, employees, projects, assignments."""

from studio.data.sample.model import Column, Domain, Link, Table
from studio.data.sample.values import after, compound, day, integer, person, pick

_DEPT_HEAD = ("국내", "해외", "디지털", "전략", "기술", "고객", "품질", "경영", "데이터", "브랜드", "재무", "인사")
_DEPT_TAIL = ("영업팀", "마케팅팀", "기획팀", "지원팀", "개발팀")
_PROJECT_HEAD = ("차세대", "통합", "모바일", "글로벌", "스마트", "클라우드", "고객 맞춤", "AI 기반", "실시간", "사내")
_PROJECT_TAIL = ("결제 시스템 구축", "물류 플랫폼 개편", "추천 엔진 개발", "ERP 전환", "보안 강화", "데이터 분석 플랫폼",
                 "고객센터 자동화", "앱 리뉴얼", "그룹웨어 도입", "인증 체계 개선")
_SALARY_BY_POSITION = {"사원": (3200, 4200), "대리": (4000, 5200), "과장": (5000, 6600), "차장": (6200, 8000),
                       "부장": (7500, 11000)}

HR = Domain(
    db_id="5",
    name="hr",
    title="회사 인사",
    questions=950,
    tables=(
        Table("departments", "부서", "개", 50, (
            Column("dept_id", "INT", "부서 번호", "key"),
            Column("dept_name", "VARCHAR(50)", "이름", "name", compound(_DEPT_HEAD, _DEPT_TAIL, sep=" ")),
            Column("location", "VARCHAR(50)", "근무지", "category",
                   pick(("서울 본사", "판교 사옥", "부산 지사", "대전 연구소"), (45, 30, 12, 13))),
            Column("budget", "BIGINT", "연간 예산", "number", integer(100_000_000, 3_000_000_000, 10_000_000, skew=1.5),
                   unit="원", summable=True, more="많은", less="적은"),
        )),
        Table("employees", "직원", "명", 1200, (
            Column("emp_id", "INT", "사번", "key"),
            Column("name", "VARCHAR(50)", "이름", "name", person()),
            Column("dept_id", "INT", "부서", "ref", ref="departments.dept_id"),
            Column("position", "VARCHAR(20)", "직급", "category",
                   pick(tuple(_SALARY_BY_POSITION), (35, 25, 20, 12, 8))),
            Column("salary", "INT", "연봉", "number",
                   lambda rng, row, i: rng.randint(*_SALARY_BY_POSITION[row["position"]]) * 10000,
                   unit="원", summable=True),
            Column("hired_at", "DATE", "입사일", "date", day("2005-01-01", "2024-12-31")),
            Column("resigned_at", "DATE", "퇴사일", "date", after("hired_at", 200, 3000), null_rate=0.85),
        )),
        Table("projects", "프로젝트", "개", 90, (
            Column("project_id", "INT", "프로젝트 번호", "key"),
            Column("project_name", "VARCHAR(100)", "이름", "name", compound(_PROJECT_HEAD, _PROJECT_TAIL, sep=" ")),
            Column("status", "VARCHAR(20)", "진행 상태", "category",
                   pick(("계획", "진행중", "완료", "보류"), (15, 40, 35, 10))),
            Column("budget", "BIGINT", "예산", "number", integer(50_000_000, 2_000_000_000, 5_000_000, skew=1.8),
                   unit="원", summable=True, more="많은", less="적은"),
            Column("start_date", "DATE", "시작일", "date", day("2021-01-01", "2024-10-31")),
            Column("end_date", "DATE", "종료일", "date", after("start_date", 60, 700), null_rate=0.4),
        )),
        Table("assignments", "프로젝트 배정", "건", 1800, (
            Column("assignment_id", "INT", "배정 번호", "key"),
            Column("emp_id", "INT", "직원", "ref", ref="employees.emp_id"),
            Column("project_id", "INT", "프로젝트", "ref", ref="projects.project_id"),
            Column("role", "VARCHAR(20)", "역할", "category",
                   pick(("개발", "기획", "디자인", "관리", "QA"), (40, 20, 12, 13, 15))),
            Column("hours", "INT", "투입 시간", "number", integer(10, 800, 10, skew=1.5), unit="시간", summable=True,
                   more="많은", less="적은"),
        ), link=Link("emp_id", "project_id", "에 참여한", "참여한"),
            unique_together=("emp_id", "project_id")),
    ),
)
