"""The web pages: phone, projector, moderator, organiser area, results page and downloads."""
