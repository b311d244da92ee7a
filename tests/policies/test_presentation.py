"""Engine messages read in the reader's language, codes by their labels."""

from django.utils import translation

from policies.views.presentation import render_message


def test_the_approving_role_and_the_payer_read_by_their_labels():
    with translation.override("zh-hans"):
        approval = render_message("Needs approval by %(role)s", {"role": "supervisor"})
        payer = render_message("The money is finally borne by %(payer)s", {"payer": "merchant"})

    assert "主管" in approval
    assert "supervisor" not in approval
    assert "商家" in payer
    assert "merchant" not in payer


def test_an_unknown_code_is_shown_as_it_is():
    with translation.override("en"):
        text = render_message("Needs approval by %(role)s", {"role": "board"})

    assert text == "Needs approval by board"
