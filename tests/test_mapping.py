"""The documented rules of the mapping: person or organisation, what a container is, what a 来源 is, editors."""

from __future__ import annotations

import pytest

from pipeline.curated import container_of, source_kind
from pipeline.mapping import editors, is_corporate


@pytest.mark.parametrize("name", ["中共中央", "新华社", "人民日报编辑部", "东北财经学院", "中共济南市委清查办",
                                  "南开大学经济研究所", "财政部", "国务院", "中央文革小组", "首都红卫兵第三司令部"])
def test_organisations(name):
    assert is_corporate(name)


@pytest.mark.parametrize("name", ["毛泽东", "王力", "吴德", "凃安民", "闻学良", "王人民", "张建科", "李会", "王部"])
def test_persons(name):
    assert not is_corporate(name)


@pytest.mark.parametrize("book,kind", [
    # the curated table (pipeline/vocabularies/containers.json)
    ("人民日报", "newspaper"), ("解放军报", "newspaper"), ("文汇报", "newspaper"), ("红旗", "periodical"),
    ("中国大跃进-大饥荒数据库", "database"), ("中国文化大革命文库（第三版）", "database"), ("文革博物馆", "website"),
    ("毛泽东全集第39卷", "volume"),
    # the rules, for names the table does not list
    ("北京日报", "newspaper"), ("红卫兵报", "newspaper"), ("工作汇报", "book"), ("会议简报", "book"),
    ("哲学研究学报", "periodical"), ("人民画报", "periodical"), ("新华月刊", "periodical"),
    ("某某运动数据库", "database"), ("某某纪念网站", "website"),
    ("鲁迅全集第十一卷", "volume"), ("选集 第2册（1970年）", "volume"), ("毛泽东思想万岁（1958.1-1960）", "book"),
    ("斯大林选集（诸夏怀斯社2017年5月）", "book"),
])
def test_containers(book, kind):
    assert container_of(book).kind == kind


@pytest.mark.parametrize("book,whole,number", [("毛泽东全集第11卷", "毛泽东全集", "11"),
                                               ("毛泽东文集第五卷（1999）", "毛泽东文集", "5"),
                                               ("鲁迅全集第十一卷", "鲁迅全集", "11"), ("某书第一百零二卷", "某书", "102"),
                                               ("某书第１２卷", "某书", "12")])
def test_volumes_know_their_set_and_number(book, whole, number):
    found = container_of(book)
    assert (found.kind, found.set, found.volume) == ("volume", whole, number)


@pytest.mark.parametrize("origin,kind", [
    ("新华社", "credit"), ("本报", "this"), ("《干审工作政策文件选编》第1476—1483页", "citation"),
    ("国务院知青办, 知青工作文件选编, 202-205", "citation"), ("李海民编《“三反”、“五反”运动》（河南卷），中共党史出版社，2006年1月。", "citation"),
    ("根据文件的翻印件打印", "note"), ("四川省某档案馆", "note")])
def test_kinds_of_source(origin, kind):
    assert source_kind(origin) == kind


@pytest.mark.parametrize("statement,names", [("周良霄,顾菊英", ["周良霄", "顾菊英"]), ("宋永毅", ["宋永毅"]),
                                             ("中央文献研究室", ["中央文献研究室"]), ("斯大林，诸夏怀斯社2017年5月", []),
                                             ("中共济南市委清查办，1977.11.15", []), ("张迪杰 编", []), ("", [])])
def test_editors_only_from_a_statement_of_names(statement, names):
    assert editors(statement) == names


def test_what_is_kept_of_tags_and_agents_is_bounded_and_changes_nothing(monkeypatch):
    """The mapper keeps what it says of each tag and agent (mapping 160 -> 121-134 us a record); kept in
    memos of at most MEMO_LIMIT entries each, it maps every record as a mapper that keeps nothing would."""
    import pipeline.mapping as mapping
    from pipeline.iris import Minter
    from pipeline.record import parse
    from pipeline.sources import Found, read_sources

    from .conftest import BASE, seed_files

    files = seed_files()
    records = [r for r in parse(read_sources(Found(str(f), f"{f.parent.name}/{f.name}", None) for f in files))
               if not isinstance(r, mapping.Reject)]
    assert len({tag for r in records for tag in r.tags}) > 3 and len({a for r in records for a in r.authors}) > 3

    def fresh(record):  # a mapper of its own for each record: nothing kept from another
        return mapping.Mapper(Minter(BASE), lang="auto").triples(record)

    monkeypatch.setattr(mapping, "MEMO_LIMIT", 3)
    kept = mapping.Mapper(Minter(BASE), lang="auto")
    for record in records + records:  # the second time round, from what was kept
        assert kept.triples(record) == fresh(record), record.file
        assert len(kept._tags) <= 3 and len(kept._agents) <= 3
