"""The rules of an event, with no web framework: models, decks, events, voting, state, counts."""
