"""The strings of the audience's reasons in the results (the page and the workbook's headers),
in Dutch and English (merged into i18n.STRINGS)."""

from __future__ import annotations

REASON_REPORT_STRINGS: dict[str, dict[str, str]] = {
    "nl": {
        "reasons_report_title": "Waarom? De redenen uit de zaal",
        "reasons_report_none": "Geen redenen om te tonen bij deze stelling.",
        "reasons_report_side_one": "1 reden",
        "reasons_report_side_count": "{n} redenen",
        "reasons_report_side_empty": "Geen redenen.",
        "reasons_report_movers": "Van mening veranderd",
        "reasons_report_upvotes": "{n} steun",
        "reasons_report_shown": "op het scherm",
        "reasons_report_hint": (
            "Verborgen en afgewezen redenen staan niet hier, wel in de downloads (met hun status)."
        ),
        "words_title": "Woorden per kant",
        "words_event_title": "Woorden per kant, alle stellingen samen",
        "words_hint": (
            "De woorden die het vaakst in de redenen staan; hoe vaker, hoe groter. Stopwoorden, "
            "getallen en woorden van de woordenlijst zijn weggelaten."
        ),
        "words_count": "{n}×",
        "words_none": "Geen woorden.",
        "download_reasons": "Redenen uit de zaal (CSV)",
        "col_pseudonym": "Deelnemer (pseudoniem)",
        "col_reason": "Reden",
        "col_shown": "Op het scherm",
        "col_upvotes": "Steun",
        "col_previous_choice": "Vorige keuze (sleutel)",
        "col_previous_label": "Vorige keuze",
        "col_original_text": "Oorspronkelijke tekst",
        "col_state": "Status",
        "col_written_at": "Geschreven om",
    },
    "en": {
        "reasons_report_title": "Why? The audience's reasons",
        "reasons_report_none": "No reasons to show for this statement.",
        "reasons_report_side_one": "1 reason",
        "reasons_report_side_count": "{n} reasons",
        "reasons_report_side_empty": "No reasons.",
        "reasons_report_movers": "Changed their mind",
        "reasons_report_upvotes": "{n} support",
        "reasons_report_shown": "on screen",
        "reasons_report_hint": (
            "Hidden and dismissed reasons are not here; the downloads have them (with their state)."
        ),
        "words_title": "Words per side",
        "words_event_title": "Words per side, all statements together",
        "words_hint": (
            "The words used most in the reasons; the more often, the larger. Stop words, numbers "
            "and words of the blocklist are left out."
        ),
        "words_count": "{n}×",
        "words_none": "No words.",
        "download_reasons": "The audience's reasons (CSV)",
        "col_pseudonym": "Participant (pseudonym)",
        "col_reason": "Reason",
        "col_shown": "On screen",
        "col_upvotes": "Support",
        "col_previous_choice": "Previous choice (key)",
        "col_previous_label": "Previous choice",
        "col_original_text": "Original text",
        "col_state": "State",
        "col_written_at": "Written at",
    },
}
