"""Bad input through the dedup stage: no crash, and a decision a person would agree with."""

from __future__ import annotations

from sqlalchemy import Engine, text

from tests.services.worker.dedup_support import articles, assert_consistent, composed, credited, run, story

CHINESE = (
    "国家统计局今天公布的数据显示，今年第三季度国内生产总值同比增长百分之四点九，增速较上一季度有所放缓。"
    "分析人士指出，房地产市场持续低迷和出口需求减弱是拖累经济增长的主要因素。"
    "政府表示将继续实施积极的财政政策，加大对基础设施建设的投资力度，以稳定就业和提振消费信心。"
)
CHINESE_OTHER = (
    "北京时间周日晚，中国女排在世界联赛决赛中以三比一战胜对手，时隔多年再次夺得冠军。"
    "主教练在赛后接受采访时表示，队员们在关键时刻顶住了压力，发挥出了应有的水平，感谢球迷的一路支持。"
)
THAI = (
    "กรุงเทพมหานครประกาศมาตรการใหม่เพื่อแก้ไขปัญหาฝุ่นละอองขนาดเล็กที่เกินค่ามาตรฐานในหลายพื้นที่ "
    "โดยขอความร่วมมือให้ประชาชนทำงานจากบ้านและลดการใช้รถยนต์ส่วนตัว "
    "เจ้าหน้าที่ระบุว่าสถานการณ์อาจรุนแรงขึ้นในสัปดาห์หน้าเนื่องจากสภาพอากาศปิดและลมสงบ"
)
THAI_OTHER = (
    "ทีมฟุตบอลทีมชาติไทยเอาชนะคู่แข่งสองต่อศูนย์ในการแข่งขันรอบคัดเลือกเมื่อคืนนี้ "
    "ทำให้มีโอกาสผ่านเข้าสู่รอบต่อไปมากขึ้น แฟนบอลจำนวนมากเดินทางมาให้กำลังใจที่สนามราชมังคลากีฬาสถาน"
)


def _decided(db: Engine, ids: list) -> tuple[list[str], bool]:
    """(the methods of the first two, in either order; whether the third is in a cluster of its own).

    Articles of one batch are decided in id order, and ids made in the same millisecond are not ordered,
    so which of the two copies came "first" is not known in advance."""
    arts = articles(db)
    first, second, third = (arts[i] for i in ids)
    assert first["cluster_id"] == second["cluster_id"], "the first two are one story"
    return sorted([first["dedup_method"], second["dedup_method"]]), third["cluster_id"] == third["id"]


def test_empty_bodies_are_judged_with_their_titles(db: Engine) -> None:
    # Zero-width characters pass the API's "not blank" check and normalise to nothing.
    ids = run(
        db,
        [
            {"title": "Live: election night", "body": "\u200b\u200b"},
            {"title": "Live: election night", "body": "\u200b"},
            {"title": "Weather warning for the north", "body": "\u200b"},
        ],
    )
    assert _decided(db, ids) == (["exact_hash", "unique"], True)
    assert_consistent(db)


def test_one_word_bodies_are_not_near_duplicates_of_each_other(db: Engine) -> None:
    ids = run(
        db,
        [
            {"title": "Minister resigns over expenses", "body": "Developing."},
            {"title": "Flood warnings issued across Wales", "body": "Developing."},
            {"title": "Minister resigns over expenses", "body": "Developing"},
        ],
    )
    assert _decided(db, [ids[0], ids[2], ids[1]]) == (["exact_hash", "unique"], True)
    assert_consistent(db)


def test_punctuation_only_bodies(db: Engine) -> None:
    ids = run(
        db,
        [
            {"title": "Placeholder one", "body": "!!! ??? ... --- !!!"},
            {"title": "Placeholder one", "body": "!!!   ???  ...  ---   !!!"},
            {"title": "Placeholder one", "body": "*** ### ***"},
        ],
    )
    assert _decided(db, ids) == (["exact_hash", "unique"], True)
    assert_consistent(db)


def test_number_only_bodies(db: Engine) -> None:
    table = " ".join(str(n * 7 % 101) for n in range(80))
    other = " ".join(str(n * 13 % 97) for n in range(80))
    ids = run(
        db,
        [
            {"title": "Results table", "body": table},
            {"title": "Results table, corrected", "body": table + " 5"},
            {"title": "Results table", "body": other},
        ],
    )
    assert _decided(db, ids) == (["minhash", "unique"], True)
    assert_consistent(db)


def test_one_mebibyte_body(db: Engine) -> None:
    parts, size = [], 0
    for number in range(2000):
        body = composed(("sport", "business", "politics")[number % 3], number // 3)[1]
        parts.append(body)
        size += len(body) + 2
        if size >= 1024 * 1024:
            break
    big = "\n\n".join(parts)
    assert len(big) >= 1024 * 1024
    ids = run(db, [{"title": "Everything", "body": big}])
    ids += run(
        db,
        [
            {"title": "Everything again", "body": credited(big)},
            {"title": "A fifth of it", "body": "\n\n".join(parts[: len(parts) // 5])},
            {"title": "Something else", "body": story("chip-plant")[1]},
        ],
    )
    arts = articles(db)
    assert {arts[i]["cluster_id"] for i in ids[:3]} == {ids[0]}
    assert arts[ids[3]]["cluster_id"] == ids[3]
    assert arts[ids[1]]["dedup_method"] == "minhash"
    with db.connect() as conn:
        part = conn.execute(text("SELECT * FROM dedup_decisions WHERE article_id = :id"), {"id": ids[2]}).one()
    assert part.method == "containment" and part.containment > 0.99, "the first fifth is contained in the whole"
    assert_consistent(db)


def test_chinese_without_spaces_uses_character_shingles(db: Engine) -> None:
    ids = run(
        db,
        [
            {"title": "经济数据", "body": CHINESE},
            {"title": "第三季度经济增长放缓", "body": CHINESE.replace("四点九", "四点八") + "（来源：新华社）"},
            {"title": "女排夺冠", "body": CHINESE_OTHER},
        ],
    )
    assert _decided(db, ids) == (["minhash", "unique"], True)
    assert max(articles(db)[i]["dedup_similarity"] or 0 for i in ids[:2]) > 0.7
    assert_consistent(db)


def test_thai_without_word_spaces_uses_character_shingles(db: Engine) -> None:
    ids = run(
        db,
        [
            {"title": "ฝุ่นละออง", "body": THAI},
            {"title": "มาตรการฝุ่น", "body": THAI + " ที่มา: สำนักข่าวไทย"},
            {"title": "ฟุตบอล", "body": THAI_OTHER},
        ],
    )
    assert _decided(db, ids) == (["minhash", "unique"], True)
    assert_consistent(db)
