"""Generate a realistic synthetic corpus in the record format, for benchmarks.

    python bench/generate.py OUT --records 100000 --seed 1

Records are laid out as OUT/<book_id>/<article_id>.txt like the real corpus: Chinese titles, partial
dates (year-only, year-month, several, ranges, missing), 0-4 authors from a pool with organisations,
1-8 tags from a pool of 300, ~2,000 books and newspapers, origins with commas, bodies of 1-8 KB with
headings and quotations, and about 1 % of articles printed in a second book."""

from __future__ import annotations

import argparse
import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from pipeline.record import format_record  # noqa: E402

HAN = "的一是在不了有和人这中大为上个国我以要他时来用们生到作地于出就分对成会可主发年动同工也能下过子说产种面而方后多定行学法所民得经十三之进着等部度家电力里如水化高自二理起小物现实加量都两体制机当使点从业本去把性好应开它合还因由其些然前外天政四日那社义事平形相全表间样与关各重新线内数正心反你明看原又么利比或但质气第向道命此变条只没结解问意建月公无系军很情者最立代想已通并提直题党程展五果料象员革位入常文总次品式活设及管特件长求老头基资边流路级少图山统接知较将组见计别她手角期根论运农指几九区强放决西被干做必战先回则任取据处队南给色光门即保治北造百规热领七海口东导器压志世金增争济阶油思术极交受联什认六共权收证改清己美再采转更单风切打白教速花带安场身车例真务具万每目至达走积示议声报斗完类八离华名确才科张信马节话米整空元况今集温传土许步群广石记需段研界拉林律叫且究观越织装影算低持音众书布复容儿须际商非验连断深难近矿千周委素技备半办青省列习响约支般史感劳便团往酸历市克何除消构府称太准精值号率族维划选标写存候毛亲快效斯院查江型眼王按格养易置派层片始却专状育厂京识适属圆包火住调满县局照参红细引听该铁价严"
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
ORGS = ["中共中央", "新华社", "人民日报编辑部", "国务院", "中共北京市委", "红旗杂志编辑部", "解放军报编辑部",
        "中央文革小组", "北京大学革命委员会", "清华大学井冈山兵团", "上海市革命委员会", "财政部", "农业部"]
PERIODICALS = ["人民日报", "解放军报", "光明日报", "文汇报", "红旗", "北京日报", "新华月报", "参考消息"]


def han(rng: random.Random, n: int) -> str:
    return "".join(rng.choice(HAN) for _ in range(n))


def person(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + han(rng, rng.choice((1, 2, 2)))


class Pools:
    def __init__(self, rng: random.Random):
        self.people = [person(rng) for _ in range(5000)] + ORGS * 20
        self.tags = [han(rng, rng.randint(2, 5)) for _ in range(300)] + ["文章", "毛泽东", "指示", "发言"] * 30
        books = [han(rng, rng.randint(4, 14)) + rng.choice(("", "（上册）", "第3卷", "（1967年）")) for _ in range(2000)]
        self.books = [(f"book{index:04d}", name, rng.choice(("", "", person(rng), "宋永毅", "中央文献研究室，1999")))
                      for index, name in enumerate(books + PERIODICALS * 50)]


def date_field(rng: random.Random) -> tuple[str, str]:
    def one() -> str:
        year = rng.randint(1921, 2000)
        kind = rng.random()
        if kind < 0.15:
            return f"{year}-0-0"
        if kind < 0.35:
            return f"{year}-{rng.randint(1, 12)}-0"
        return f"{year}-{rng.randint(1, 12)}-{rng.randint(1, 28)}"

    kind = rng.random()
    if kind < 0.03:
        return "", "false"
    if kind < 0.06:
        start = rng.randint(1950, 1990)
        return f"{start}-{rng.randint(1, 6)}-0,{start}-{rng.randint(7, 12)}-{rng.randint(1, 28)}", "true"
    if kind < 0.10:
        return f"{one()},{one()}", "false"
    return one(), "false"


def body(rng: random.Random) -> str:
    target = rng.randint(1000, 8000)  # bytes; a Han character is 3 bytes in UTF-8
    parts: list[str] = []
    size = 0
    while size < target:
        kind = rng.random()
        if kind < 0.08:
            text = "#" * rng.randint(1, 4) + " " + han(rng, rng.randint(4, 16))
        elif kind < 0.15:
            text = "> " + han(rng, rng.randint(20, 80)) + "。"
        else:
            text = "，".join(han(rng, rng.randint(5, 25)) for _ in range(rng.randint(2, 8))) + "。"
        parts.append(text)
        size += len(text.encode("utf-8")) + 2
    return "\n\n".join(parts)


def record(rng: random.Random, pools: Pools, article_id: str, book: tuple[str, str, str]) -> str:
    dates, is_range = date_field(rng)
    authors = ",".join(rng.sample(pools.people, rng.choice((0, 1, 1, 1, 2, 3, 4))))
    tags = ",".join(rng.sample(pools.tags, rng.randint(1, 8)))
    origin = rng.choice(("", "", "", "根据文件的翻印件打印", f"《{han(rng, 6)}》, {han(rng, 8)}, {rng.randint(1, 300)}-{rng.randint(301, 600)}"))
    description = rng.choice(("", "", "", han(rng, rng.randint(10, 60)) + "。"))
    return format_record(dict(id=article_id, title=han(rng, rng.randint(8, 40)), dates=dates, is_range=is_range,
                              authors=authors, origin=origin, tags=tags, book=book[1], book_author=book[2],
                              body=body(rng), description=description))


def generate(out: Path, records: int, seed: int) -> int:
    rng = random.Random(seed)
    pools = Pools(rng)
    written = 0
    folders: set[str] = set()
    while written < records:
        article_id = f"{rng.getrandbits(40):010x}"
        books = rng.sample(pools.books, 2 if rng.random() < 0.01 else 1)
        for book in books[: records - written]:
            if book[0] not in folders:
                (out / book[0]).mkdir(parents=True, exist_ok=True)
                folders.add(book[0])
            (out / book[0] / f"{article_id}.txt").write_text(record(rng, pools, article_id, book), encoding="utf-8")
            written += 1
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--records", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    print(f"{generate(args.out, args.records, args.seed)} records written to {args.out}")


if __name__ == "__main__":
    main()
