"""Domain 3, a university: departments, professors, students, courses, enrollments."""

from studio.data.sample.model import Column, Domain, Link, Table
from studio.data.sample.values import compound, day, decimal, integer, listed, person, pick

_DEPARTMENTS = (
    ("국어국문학과", "인문대학"), ("영어영문학과", "인문대학"), ("사학과", "인문대학"), ("철학과", "인문대학"),
    ("중어중문학과", "인문대학"), ("일어일문학과", "인문대학"), ("독어독문학과", "인문대학"), ("불어불문학과", "인문대학"),
    ("고고미술사학과", "인문대학"), ("언어학과", "인문대학"), ("경제학과", "사회과학대학"), ("정치외교학과", "사회과학대학"),
    ("사회학과", "사회과학대학"), ("심리학과", "사회과학대학"), ("행정학과", "사회과학대학"), ("지리학과", "사회과학대학"),
    ("신문방송학과", "사회과학대학"), ("사회복지학과", "사회과학대학"), ("인류학과", "사회과학대학"), ("경영학과", "경영대학"),
    ("회계학과", "경영대학"), ("무역학과", "경영대학"), ("수학과", "자연과학대학"), ("통계학과", "자연과학대학"),
    ("물리학과", "자연과학대학"), ("화학과", "자연과학대학"), ("생명과학과", "자연과학대학"), ("지구과학과", "자연과학대학"),
    ("천문학과", "자연과학대학"), ("해양학과", "자연과학대학"), ("컴퓨터공학과", "공과대학"), ("전자공학과", "공과대학"),
    ("기계공학과", "공과대학"), ("화학공학과", "공과대학"), ("건축학과", "공과대학"), ("산업공학과", "공과대학"),
    ("신소재공학과", "공과대학"), ("토목공학과", "공과대학"), ("환경공학과", "공과대학"), ("항공우주공학과", "공과대학"),
    ("원자핵공학과", "공과대학"), ("소프트웨어학과", "공과대학"), ("간호학과", "간호대학"), ("약학과", "약학대학"),
    ("음악과", "예술대학"), ("미술학과", "예술대학"), ("디자인학과", "예술대학"), ("체육교육과", "사범대학"),
    ("교육학과", "사범대학"), ("수학교육과", "사범대학"), ("식품영양학과", "생활과학대학"), ("의류학과", "생활과학대학"),
    ("아동학과", "생활과학대학"), ("법학과", "법과대학"),
)
_COURSE_HEAD = ("기초", "고급", "현대", "응용", "실용", "입문", "심화", "비교", "전산", "실험")
_COURSE_TAIL = ("데이터베이스", "운영체제", "미시경제학", "거시경제학", "일반화학", "선형대수", "미적분학", "통계학",
                "한국사", "서양철학", "유기화학", "회로이론", "열역학", "마케팅", "회계원리", "사회조사방법론",
                "인공지능", "자료구조", "세계문학", "심리학")

SCHOOL = Domain(
    db_id="3",
    name="school",
    title="대학교",
    questions=950,
    tables=(
        Table("departments", "학과", "개", len(_DEPARTMENTS), (
            Column("dept_id", "INT", "학과 번호", "key"),
            Column("dept_name", "VARCHAR(50)", "이름", "name", listed(tuple(d for d, _ in _DEPARTMENTS))),
            Column("college", "VARCHAR(50)", "단과대학", "category", lambda rng, row, i: _DEPARTMENTS[i][1]),
            Column("quota", "INT", "입학 정원", "number", integer(20, 120, 5), unit="명", summable=True,
                   more="많은", less="적은"),
            Column("established_at", "DATE", "설립일", "date", day("1946-03-01", "2015-03-01")),
        )),
        Table("professors", "교수", "명", 220, (
            Column("professor_id", "INT", "교수 번호", "key"),
            Column("name", "VARCHAR(50)", "이름", "name", person()),
            Column("dept_id", "INT", "소속 학과", "ref", ref="departments.dept_id"),
            Column("position", "VARCHAR(20)", "직위", "category", pick(("조교수", "부교수", "정교수"), (30, 30, 40))),
            Column("hired_at", "DATE", "임용일", "date", day("1990-03-01", "2024-09-01")),
        )),
        Table("students", "학생", "명", 1500, (
            Column("student_id", "INT", "학번", "key"),
            Column("name", "VARCHAR(50)", "이름", "name", person()),
            Column("dept_id", "INT", "학과", "ref", ref="departments.dept_id"),
            Column("grade_year", "INT", "학년", "category", pick((1, 2, 3, 4))),
            Column("gpa", "DECIMAL(3,2)", "평점", "number", decimal(1.5, 4.5, 2)),
            Column("advisor_id", "INT", "지도 교수", "ref", ref="professors.professor_id", null_rate=0.2),
            Column("admitted_at", "DATE", "입학일", "date", pick(tuple(f"{y}-03-02" for y in range(2017, 2025)))),
        )),
        Table("courses", "강의", "개", 120, (
            Column("course_id", "INT", "강의 번호", "key"),
            Column("course_name", "VARCHAR(100)", "이름", "name", compound(_COURSE_HEAD, _COURSE_TAIL, sep=" ")),
            Column("professor_id", "INT", "담당 교수", "ref", ref="professors.professor_id"),
            Column("credits", "INT", "학점", "number", pick((1, 2, 3, 3, 3)), summable=True, more="많은", less="적은"),
            Column("capacity", "INT", "수강 정원", "number", integer(20, 200, 10), unit="명", more="많은", less="적은"),
            Column("semester", "VARCHAR(20)", "개설 학기", "category", pick(("2023-1", "2023-2", "2024-1", "2024-2"))),
        )),
        Table("enrollments", "수강 기록", "건", 2000, (
            Column("enrollment_id", "INT", "수강 번호", "key"),
            Column("student_id", "INT", "학생", "ref", ref="students.student_id"),
            Column("course_id", "INT", "강의", "ref", ref="courses.course_id"),
            Column("score", "INT", "점수", "number", lambda rng, row, i: max(0, min(100, int(rng.gauss(76, 13)))),
                   unit="점"),
            Column("letter_grade", "VARCHAR(2)", "성적 등급", "category",
                   lambda rng, row, i: "A" if row["score"] >= 90 else "B" if row["score"] >= 80
                   else "C" if row["score"] >= 70 else "D" if row["score"] >= 60 else "F"),
        ), link=Link("student_id", "course_id", "을(를) 수강한", "수강한"),
            unique_together=("student_id", "course_id")),
    ),
)
