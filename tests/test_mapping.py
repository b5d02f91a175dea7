"""The documented rules of the mapping: person or organisation, book or periodical."""

from __future__ import annotations

import pytest

from pipeline.mapping import is_corporate, is_periodical


@pytest.mark.parametrize("name", ["中共中央", "新华社", "人民日报编辑部", "东北财经学院", "中共济南市委清查办",
                                  "南开大学经济研究所", "财政部", "国务院", "中央文革小组", "首都红卫兵第三司令部"])
def test_organisations(name):
    assert is_corporate(name)


@pytest.mark.parametrize("name", ["毛泽东", "王力", "吴德", "凃安民", "闻学良", "王人民", "张建科", "李会", "王部"])
def test_persons(name):
    assert not is_corporate(name)


@pytest.mark.parametrize("book,periodical", [("人民日报", True), ("解放军报", True), ("文汇报", True), ("红旗", True),
                                             ("毛泽东全集第39卷", False), ("文革博物馆", False),
                                             ("中国大跃进-大饥荒数据库", False)])
def test_books_and_periodicals(book, periodical):
    assert is_periodical(book) is periodical
