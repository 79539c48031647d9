"""Lesson: seven steps in the seed's order with Back and Next, each with a figure, a sentence from its live numbers
and a question; the step in the address, and a presenter view."""

from __future__ import annotations

from recattn.analysis import lesson
from recattn.data import load
from recattn.recommend import Recommender
from tests.app.conftest import MODELS, go, plotly_specs
from ui.text import md

LESSON = "pages/lesson.py"
HIST = ["915", "341", "5", "336", "880"]


def test_every_step_in_order_with_its_figure_sentence_and_question(at):
    at.session_state["history"] = HIST
    go(at, LESSON)
    for step, (title, question) in enumerate(lesson.STEPS, 1):
        assert at.title[0].value == f"Lesson · {step} of 7: {title}"
        assert at.query_params["step"] == str(step)
        assert any(m.value.endswith(md(question)) for m in at.markdown)
        assert plotly_specs(at), f"step {step} draws nothing"
        if step < 7:
            at.button(key="lesson_next").click().run()
            assert not at.exception, at.exception[0].stack_trace if at.exception else ""
    assert at.button(key="lesson_next").disabled
    at.button(key="lesson_back").click().run()
    assert at.title[0].value.startswith("Lesson · 6 of 7")


def test_a_link_opens_a_step_and_its_sentence_is_the_models(at):
    at.session_state["history"] = HIST
    at.query_params["step"] = "2"
    go(at, LESSON)
    assert at.title[0].value == "Lesson · 2 of 7: Dot-product and multi-head attention"
    trace = Recommender.from_checkpoint(MODELS / "films-sasrec", load("builtin:films")).recommend(HIST).trace
    assert any(md(lesson.look_sentence(trace)) in m.value for m in at.markdown)


def test_the_presenter_view_hides_the_sidebar_and_is_in_the_link(at):
    at.session_state["history"] = HIST
    go(at, LESSON)
    at.toggle(key="lesson_presenter").set_value(True).run()
    assert not at.exception
    assert at.query_params["presenter"] == "1"
    assert any("stSidebar" in h.proto.body for h in at.get("html"))
