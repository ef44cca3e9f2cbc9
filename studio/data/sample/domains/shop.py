"""Domain 2, an online shop: sellers, customers, products, orders and their items."""

from studio.data.sample.model import Column, Domain, Table
from studio.data.sample.values import CITIES, CITY_WEIGHTS, after, compound, integer, moment, person, pick

_SELLER_HEAD = ("행복", "하늘", "바다", "초록", "햇살", "별빛", "미소", "보물", "우리", "달콤", "든든", "알뜰")
_SELLER_TAIL = ("마켓", "상회", "스토어", "상점", "몰", "유통")
_BRAND = ("프리미엄", "데일리", "스마트", "클래식", "에코", "울트라", "베이직", "모던", "내추럴", "프로")
_ITEM = ("무선 이어폰", "블루투스 스피커", "보조배터리", "텀블러", "백팩", "운동화", "후드티", "청바지", "전기포트",
         "에어프라이어", "가습기", "선크림", "샴푸", "노트북 거치대", "기계식 키보드", "무선 마우스", "요가 매트",
         "캠핑 의자", "머그컵", "원목 책상")
_CATEGORY = {"무선 이어폰": "전자기기", "블루투스 스피커": "전자기기", "보조배터리": "전자기기", "텀블러": "주방용품",
             "백팩": "패션잡화", "운동화": "패션잡화", "후드티": "의류", "청바지": "의류", "전기포트": "주방용품",
             "에어프라이어": "주방용품", "가습기": "생활가전", "선크림": "뷰티", "샴푸": "뷰티", "노트북 거치대": "사무용품",
             "기계식 키보드": "전자기기", "무선 마우스": "전자기기", "요가 매트": "스포츠", "캠핑 의자": "스포츠",
             "머그컵": "주방용품", "원목 책상": "가구"}

SHOP = Domain(
    db_id="2",
    name="shop",
    title="쇼핑몰",
    questions=950,
    tables=(
        Table("sellers", "판매자", "곳", 60, (
            Column("seller_id", "INT", "판매자 번호", "key"),
            Column("seller_name", "VARCHAR(50)", "상호명", "name", compound(_SELLER_HEAD, _SELLER_TAIL)),
            Column("city", "VARCHAR(20)", "소재지", "category", pick(CITIES, CITY_WEIGHTS)),
            Column("rating", "DECIMAL(2,1)", "판매자 평점", "number", lambda rng, row, i: round(rng.uniform(2.5, 5.0), 1)),
            Column("registered_at", "DATE", "입점일", "date", moment("2018-01-01", "2024-06-30")),
        )),
        Table("customers", "고객", "명", 800, (
            Column("customer_id", "INT", "고객 번호", "key"),
            Column("name", "VARCHAR(50)", "이름", "name", person()),
            Column("city", "VARCHAR(20)", "거주 도시", "category", pick(CITIES, CITY_WEIGHTS)),
            Column("grade", "VARCHAR(20)", "회원 등급", "category", pick(("브론즈", "실버", "골드", "VIP"), (45, 30, 18, 7))),
            Column("points", "INT", "적립금", "number", integer(0, 80000, 10, skew=2.2), unit="원", summable=True,
                   more="많은", less="적은"),
            Column("joined_at", "DATETIME", "가입일", "date", moment("2019-01-01", "2024-12-31")),
        )),
        Table("products", "상품", "개", 180, (
            Column("product_id", "INT", "상품 번호", "key"),
            Column("product_name", "VARCHAR(100)", "이름", "name", compound(_BRAND, _ITEM, sep=" ")),
            Column("category", "VARCHAR(20)", "카테고리", "category",
                   lambda rng, row, i: _CATEGORY[row["product_name"].split(" ", 1)[1]]),
            Column("price", "INT", "가격", "number", integer(3000, 500000, 100, skew=2.0), unit="원",
                   more="비싼", less="저렴한"),
            Column("stock", "INT", "재고 수량", "number", integer(0, 500, skew=1.7), unit="개", summable=True,
                   more="많은", less="적은"),
            Column("seller_id", "INT", "판매자", "ref", ref="sellers.seller_id"),
            Column("released_at", "DATE", "출시일", "date", moment("2020-01-01", "2024-12-31")),
        )),
        Table("orders", "주문", "건", 1500, (
            Column("order_id", "INT", "주문 번호", "key"),
            Column("customer_id", "INT", "고객", "ref", ref="customers.customer_id"),
            Column("ordered_at", "DATETIME", "주문일", "date", moment("2023-01-01", "2024-12-31")),
            Column("status", "VARCHAR(20)", "주문 상태", "category",
                   pick(("결제완료", "배송중", "배송완료", "취소", "반품"), (10, 12, 65, 8, 5))),
            Column("total_amount", "INT", "결제 금액", "number", integer(5000, 900000, 10, skew=2.0), unit="원",
                   summable=True, more="큰", less="작은"),
            Column("delivered_at", "DATETIME", "배송 완료일", "date", after("ordered_at", 1, 7), null_rate=0.3),
        )),
        Table("order_items", "주문 상품", "건", 2000, (
            Column("order_item_id", "INT", "주문 상품 번호", "key"),
            Column("order_id", "INT", "주문", "ref", ref="orders.order_id"),
            Column("product_id", "INT", "상품", "ref", ref="products.product_id"),
            Column("quantity", "INT", "수량", "number", integer(1, 10, skew=2.5), unit="개", summable=True,
                   more="많은", less="적은"),
        ), unique_together=("order_id", "product_id")),
    ),
)
