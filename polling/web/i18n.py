"""Every UI string, in Dutch and English, in one place. Templates and scripts look them up."""

from __future__ import annotations

from polling.domain.decks import LANGUAGES, PROBLEMS

# Placeholders in braces ({n}, {total}, ...) are filled in by the page script.
STRINGS: dict[str, dict[str, str]] = {
    "nl": {
        "app_name": "Live stemmen",
        "join_title": "Doe mee met de stemming",
        "join_prompt": "Typ de code die op het scherm staat.",
        "join_label": "Code (6 cijfers)",
        "join_button": "Meedoen",
        "join_bad_code": "Een code heeft 6 cijfers, zoals 482 913.",
        "join_unknown_code": "Er is geen stemming met code {code}.",
        "language_switch": "English",
        "lobby_title": "Welkom!",
        "lobby_text": "Het panel begint zo. De eerste stelling verschijnt hier vanzelf.",
        "bad_request_title": "Dat formulier klopte niet",
        "bad_request_text": (
            "Het was verlopen of onvolledig. Ga terug, laad de pagina opnieuw en probeer het nog "
            "eens."
        ),
        "too_large_title": "Te groot",
        "too_large_text": "Een deckbestand mag hoogstens 256 KB zijn.",
        "org_title": "Organisator",
        "org_login_title": "Inloggen als organisator",
        "org_password": "Wachtwoord",
        "org_login": "Inloggen",
        "org_logout": "Uitloggen",
        "org_wrong": "Dat wachtwoord klopt niet.",
        "org_not_configured": (
            "Er is nog geen wachtwoord voor de organisator. Stel er een in op de server met: "
            "polling admin set-password (of zet POLLING_ADMIN_PASSWORD)."
        ),
        "org_events": "Evenementen",
        "org_no_events": "Nog geen evenementen.",
        "org_code": "Code",
        "org_event": "Evenement",
        "org_created_at": "Aangemaakt",
        "org_stage": "Stand",
        "org_activity": "Deelnemers / stemmen",
        "org_links": "Openen",
        "org_presenter": "Scherm",
        "org_moderator": "Moderator",
        "org_results": "Resultaten",
        "org_delete": "Verwijderen",
        "org_lobby": "Nog niet begonnen",
        "org_finished": "Afgelopen",
        "org_at_statement": "Stelling {n} van {total}",
        "org_create_title": "Nieuw evenement",
        "org_deck": "Deck uit de map statements/",
        "org_or_upload": "of upload een deckbestand (.toml)",
        "org_results_mode": "Uitslag op het scherm",
        "org_results_hidden": "Pas na ‘Toon uitslag’",
        "org_results_live": "Live tijdens het stemmen",
        "org_create": "Evenement aanmaken",
        "org_created": "Evenement {code} is aangemaakt.",
        "org_deck_refused": "Dit deck bevat een fout:",
        "org_delete_title": "Evenement {code} verwijderen?",
        "org_delete_text": (
            "Dit verwijdert het evenement met al zijn stellingen, rondes en stemmen "
            "(deelnemers: {participants}, stemmen: {votes}). Dit kan niet ongedaan worden "
            "gemaakt. Download eerst de resultaten als u ze wilt bewaren."
        ),
        "org_delete_confirm": "Definitief verwijderen",
        "org_compare": "Evenementen met hetzelfde deck vergelijken:",
        "org_compare_title": "Vergelijking: {deck}",
        "org_compare_text": (
            "Elk evenement met dit deck, oudste eerst: per stelling en ronde het percentage en "
            "aantal stemmen per keuze, en hoeveel mensen stemden (– : die ronde was er niet)."
        ),
        "org_voters": "Stemmers",
        "org_cancel": "Annuleren",
        "org_deleted": "Evenement {code} is verwijderd, met al zijn stemmen.",
        "panel_title": "Het panel",
        "facts_title": "Ter context",
        "source": "Bron: {source}",
        "statement_of": "Stelling {n} van {total}",
        "round": "Ronde {n}",
        "ready_text": "Stemmen gaat zo open.",
        "vote_prompt": "Wat vindt u?",
        "vote_sending": "Bezig met versturen…",
        "vote_recorded": "Uw stem is ontvangen: {choice}",
        "vote_change_hint": "U kunt uw stem wijzigen zolang het stemmen open is.",
        "vote_closed": "Het stemmen is gesloten.",
        "your_vote": "Uw stem: {choice}",
        "no_vote": "U heeft niet gestemd.",
        "results": "Uitslag",
        "results_pending": "De uitslag volgt zo.",
        "finished_title": "Bedankt!",
        "finished_text": "Dat waren alle stellingen.",
        "offline": "Geen verbinding. Opnieuw verbinden…",
        "error_voting_closed": "Het stemmen op deze stelling is gesloten.",
        "error_unknown_round": "Deze stelling is niet meer actueel.",
        "error_generic": "Dat lukte niet: {message}",
        "scan_to_vote": "Scan en stem mee",
        "go_to": "of ga naar",
        "code": "code",
        "voted_of": "{voters} van {participants} hebben gestemd",
        "voted_of_one": "{voters} van {participants} heeft gestemd",
        "joined": "{n} deelnemers",
        "joined_one": "1 deelnemer",
        "countdown_label": "Nog {seconds} seconden",
        "vote_queued": "Geen verbinding: uw stem ({choice}) wordt verstuurd zodra die terug is.",
        "vote_queued_lost": "Uw stem is niet verstuurd: het stemmen was al gesloten.",
        "timer_label": "Aftellen",
        "timer_none": "Geen",
        "timer_seconds": "{n} seconden",
        "timer_extend": "+30 seconden",
        "timer_stop": "Stop aftellen",
        "reopen_voting": "Stemming heropenen",
        "round_help": (
            "Heropenen: dezelfde ronde gaat verder, de stemmen blijven staan. Nieuwe ronde: "
            "iedereen stemt opnieuw; de eerste ronde blijft bewaard voor de vergelijking."
        ),
        "voting_open": "Stemming geopend",
        "voting_closed": "Stemming gesloten",
        "shortcuts": (
            "Toetsen: → volgende · ← vorige · O stemming openen/sluiten · U uitslag · "
            "N nieuwe ronde · B zwart scherm · ? deze hulp"
        ),
        "moderator_title": "Moderator",
        "previous": "Vorige",
        "next": "Volgende",
        "open_voting": "Stemming openen",
        "close_voting": "Stemming sluiten",
        "reveal": "Toon uitslag",
        "hide": "Verberg uitslag",
        "new_round": "Nieuwe ronde",
        "results_live": "Uitslag live op het scherm",
        "projector_blind": "Het scherm toont de uitslag pas na ‘Toon uitslag’.",
        "projector_live": "Het scherm toont de uitslag live.",
        "phase_lobby": "Wachten op de eerste stelling",
        "phase_ready": "Stelling op het scherm, stemmen nog dicht",
        "phase_open": "Stemming geopend",
        "phase_closed": "Stemming gesloten",
        "phase_finished": "Afgelopen",
        "downloads": "Uitslagen downloaden",
        "download_summary": "Uitslag (CSV)",
        "download_votes": "Alle stemmen (CSV)",
        "download_json": "Alles (JSON)",
        "presenter_link": "Presentatiescherm met toetsenbordbediening",
        "error_title": "Niet gevonden",
        "forbidden_title": "Geen toegang",
        "forbidden_text": "Deze link is niet (meer) geldig. Vraag de organisator om de link.",
        "back_to_join": "Naar de startpagina",
        "too_many_title": "Te veel pogingen",
        "too_many_text": "Er zijn te veel verkeerde links geprobeerd. Probeer het later opnieuw.",
        "results_page": "Uitslagenpagina: grafieken, verschuiving, afdrukken als PDF",
        "download_xlsx": "Uitslag, stemmen en verschuiving (Excel)",
        "report_title": "Uitslagen",
        "report_facts": "Code {code} · deck {deck} · aangemaakt {created}",
        "report_print_hint": "Als PDF bewaren: kies Afdrukken in de browser (Ctrl+P of ⌘P).",
        "report_back": "Terug naar de moderatorpagina",
        "report_not_voted": "Op deze stelling is niet gestemd.",
        "report_option": "Keuze",
        "report_votes": "Stemmen",
        "report_percent": "Percentage",
        "report_turnout": "{voters} van {participants} deelnemers stemden ({percent}%)",
        "report_opened": "Geopend",
        "report_closed": "Gesloten",
        "report_still_open": "nog open",
        "report_chart_svg": "Grafiek als SVG",
        "report_chart_png": "als PNG (voor dia's)",
        "chart_round_title": "Stelling {n}, ronde {round}",
        "chart_shift_title": "Stelling {n}, ronde {before} → {after}",
        "chart_voters": "{voters} stemmen",
        "did_not_vote": "Niet gestemd",
        "no_votes_yet": "Nog geen stemmen",
        "shift_title": "Verschuiving van ronde {before} naar ronde {after}",
        "shift_unchanged": "Zelfde keuze",
        "shift_changed": "Van mening veranderd",
        "shift_newly": "Nieuw (alleen in ronde {after} gestemd)",
        "shift_dropped": "Afgehaakt (alleen in ronde {before} gestemd)",
        "shift_changed_share": (
            "{percent}% van wie beide keren stemde, koos de tweede keer anders."
        ),
        "shift_table_caption": (
            "Per deelnemer: keuze in ronde {before} (rijen) en in ronde {after} (kolommen)"
        ),
    },
    "en": {
        "app_name": "Live voting",
        "join_title": "Join the vote",
        "join_prompt": "Type the code shown on the screen.",
        "join_label": "Code (6 digits)",
        "join_button": "Join",
        "join_bad_code": "A code has 6 digits, like 482 913.",
        "join_unknown_code": "There is no vote with code {code}.",
        "language_switch": "Nederlands",
        "lobby_title": "Welcome!",
        "lobby_text": "The panel starts soon. The first statement will appear here by itself.",
        "bad_request_title": "That form was not right",
        "bad_request_text": (
            "It had expired or was incomplete. Go back, reload the page and try again."
        ),
        "too_large_title": "Too large",
        "too_large_text": "A deck file may be 256 KB at most.",
        "org_title": "Organiser",
        "org_login_title": "Organiser login",
        "org_password": "Password",
        "org_login": "Log in",
        "org_logout": "Log out",
        "org_wrong": "That password is not right.",
        "org_not_configured": (
            "No organiser password has been set yet. Set one on the server with: polling admin "
            "set-password (or set POLLING_ADMIN_PASSWORD)."
        ),
        "org_events": "Events",
        "org_no_events": "No events yet.",
        "org_code": "Code",
        "org_event": "Event",
        "org_created_at": "Created",
        "org_stage": "Stage",
        "org_activity": "Participants / votes",
        "org_links": "Open",
        "org_presenter": "Screen",
        "org_moderator": "Moderator",
        "org_results": "Results",
        "org_delete": "Delete",
        "org_lobby": "Not started",
        "org_finished": "Finished",
        "org_at_statement": "Statement {n} of {total}",
        "org_create_title": "New event",
        "org_deck": "Deck from the statements/ folder",
        "org_or_upload": "or upload a deck file (.toml)",
        "org_results_mode": "Results on the screen",
        "org_results_hidden": "Only after ‘Reveal results’",
        "org_results_live": "Live while voting",
        "org_create": "Create event",
        "org_created": "Event {code} has been created.",
        "org_deck_refused": "This deck has an error:",
        "org_delete_title": "Delete event {code}?",
        "org_delete_text": (
            "This deletes the event with all its statements, rounds and votes "
            "(participants: {participants}, votes: {votes}). It cannot be undone. "
            "Download the results first if you want to keep them."
        ),
        "org_delete_confirm": "Delete for good",
        "org_compare": "Compare events of the same deck:",
        "org_compare_title": "Comparison: {deck}",
        "org_compare_text": (
            "Every event of this deck, oldest first: per statement and round the percentage and "
            "number of votes per choice, and how many people voted (– : that round did not exist)."
        ),
        "org_voters": "Voters",
        "org_cancel": "Cancel",
        "org_deleted": "Event {code} has been deleted, with all its votes.",
        "panel_title": "The panel",
        "facts_title": "For context",
        "source": "Source: {source}",
        "statement_of": "Statement {n} of {total}",
        "round": "Round {n}",
        "ready_text": "Voting opens shortly.",
        "vote_prompt": "What do you think?",
        "vote_sending": "Sending…",
        "vote_recorded": "Your vote is in: {choice}",
        "vote_change_hint": "You can change your vote while voting is open.",
        "vote_closed": "Voting is closed.",
        "your_vote": "Your vote: {choice}",
        "no_vote": "You did not vote.",
        "results": "Results",
        "results_pending": "Results will follow shortly.",
        "finished_title": "Thank you!",
        "finished_text": "That was the last statement. Thanks for voting.",
        "offline": "No connection. Reconnecting…",
        "error_voting_closed": "Voting on this statement is closed.",
        "error_unknown_round": "This statement is no longer current.",
        "error_generic": "That did not work: {message}",
        "scan_to_vote": "Scan to vote",
        "go_to": "or go to",
        "code": "code",
        "voted_of": "{voters} of {participants} have voted",
        "voted_of_one": "{voters} of {participants} has voted",
        "joined": "{n} participants",
        "joined_one": "1 participant",
        "countdown_label": "{seconds} seconds left",
        "vote_queued": "No connection: your vote ({choice}) will be sent once it is back.",
        "vote_queued_lost": "Your vote was not sent: voting had already closed.",
        "timer_label": "Countdown",
        "timer_none": "None",
        "timer_seconds": "{n} seconds",
        "timer_extend": "+30 seconds",
        "timer_stop": "Stop countdown",
        "reopen_voting": "Reopen voting",
        "round_help": (
            "Reopen: the same round goes on and its votes stay. New round: everyone votes "
            "again; the first round is kept for the comparison."
        ),
        "voting_open": "Voting is open",
        "voting_closed": "Voting closed",
        "shortcuts": (
            "Keys: → next · ← previous · O open/close voting · U results · N new round · "
            "B black screen · ? this help"
        ),
        "moderator_title": "Moderator",
        "previous": "Previous",
        "next": "Next",
        "open_voting": "Open voting",
        "close_voting": "Close voting",
        "reveal": "Reveal results",
        "hide": "Hide results",
        "new_round": "New round",
        "results_live": "Results live on the screen",
        "projector_blind": "The screen shows results only after ‘Reveal results’.",
        "projector_live": "The screen shows results live.",
        "phase_lobby": "Waiting for the first statement",
        "phase_ready": "Statement on screen, voting not yet open",
        "phase_open": "Voting is open",
        "phase_closed": "Voting is closed",
        "phase_finished": "Finished",
        "downloads": "Download results",
        "download_summary": "Results (CSV)",
        "download_votes": "All votes (CSV)",
        "download_json": "Everything (JSON)",
        "presenter_link": "Presenter screen with keyboard control",
        "error_title": "Not found",
        "forbidden_title": "No access",
        "forbidden_text": "This link is not valid (any more). Ask the organiser for the link.",
        "back_to_join": "To the start page",
        "too_many_title": "Too many attempts",
        "too_many_text": "Too many wrong links were tried. Please try again later.",
        "results_page": "Results page: charts, shift, print to PDF",
        "download_xlsx": "Results, votes and shift (Excel)",
        "report_title": "Results",
        "report_facts": "Code {code} · deck {deck} · created {created}",
        "report_print_hint": "To save as PDF: choose Print in your browser (Ctrl+P or ⌘P).",
        "report_back": "Back to the moderator page",
        "report_not_voted": "This statement was not put to the vote.",
        "report_option": "Choice",
        "report_votes": "Votes",
        "report_percent": "Percent",
        "report_turnout": "{voters} of {participants} participants voted ({percent}%)",
        "report_opened": "Opened",
        "report_closed": "Closed",
        "report_still_open": "still open",
        "report_chart_svg": "Chart as SVG",
        "report_chart_png": "as PNG (for slides)",
        "chart_round_title": "Statement {n}, round {round}",
        "chart_shift_title": "Statement {n}, round {before} → {after}",
        "chart_voters": "{voters} votes",
        "did_not_vote": "Did not vote",
        "no_votes_yet": "No votes yet",
        "shift_title": "Shift from round {before} to round {after}",
        "shift_unchanged": "Same choice",
        "shift_changed": "Changed their mind",
        "shift_newly": "New (voted only in round {after})",
        "shift_dropped": "Dropped out (voted only in round {before})",
        "shift_changed_share": (
            "{percent}% of those who voted both times chose differently the second time."
        ),
        "shift_table_caption": (
            "Per participant: choice in round {before} (rows) and in round {after} (columns)"
        ),
    },
}


# What can be wrong with a deck (polling.domain.decks.PROBLEMS), in Dutch; English is the
# deck module's own.
DECK_PROBLEMS_NL = {
    "not_found": "bestaat niet",
    "not_utf8": "is geen UTF-8-tekst",
    "not_toml": "is geen geldige TOML (regel {line}, kolom {column})",
    "too_large": "is groter dan {kb} KB",
    "pick_deck": "kies een deck uit de lijst of upload een bestand",
    "missing": "ontbreekt",
    "language": "moet een van deze zijn: {languages}",
    "no_statements": "moet een niet-lege lijst van [[statements]]-tabellen zijn",
    "duplicate_key": "dubbele sleutel {key!r} (ook {other})",
    "duplicate_option": "dubbele optiesleutel {key!r}",
    "too_long": "is {length} tekens; er passen er hoogstens {limit} op het scherm",
    "table": "moet een tabel zijn",
    "tables": "moet een lijst van {least} tot {most} [[{name}]]-tabellen zijn",
    "type": "moet tekst zijn, geen {type}",
    "text_type": "moet tekst zijn of een tabel per taal, geen {type}",
    "key_pattern": "{value!r} moet 1-32 kleine letters, cijfers, '-' of '_' zijn",
    "unknown_language": "onbekende taal (bekend: {languages})",
    "empty": "mag niet leeg zijn",
    "deck_language": "ontbreekt (de taal van het deck)",
    "unknown_field": "onbekend veld (toegestaan: {allowed})",
    "timer": "moet een heel aantal seconden van {least} tot {most} zijn",
    "facts_with_options": "naast {options} opties passen hoogstens {most} feiten op het scherm",
    "more": "en nog {count} problemen",
}


def deck_problems(language: str) -> dict[str, str]:
    """How the pages word what is wrong with a deck, in a UI language."""
    return DECK_PROBLEMS_NL if pick_language(language, "nl") == "nl" else dict(PROBLEMS)


def pick_language(requested: str | None, default: str) -> str:
    """The requested language if we have it, else the event's (or Dutch)."""
    if requested in STRINGS:
        return requested
    return default if default in STRINGS else "nl"


def strings(language: str) -> dict[str, str]:
    """All UI strings of a language."""
    return STRINGS[pick_language(language, "nl")]


def other_language(language: str) -> str:
    """The language the switch on a page offers."""
    return next(lang for lang in LANGUAGES if lang != language)
