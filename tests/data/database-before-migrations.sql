-- An event database made by polling 0.1.0, before schema migrations existed: two events,
-- one with its raw votes purged (round_archives). tests/test_schema.py upgrades it.
BEGIN TRANSACTION;
CREATE TABLE events (
	id INTEGER NOT NULL, 
	code VARCHAR(6) NOT NULL, 
	title JSON NOT NULL, 
	language VARCHAR(8) NOT NULL, 
	deck_name VARCHAR(200) NOT NULL, 
	presenter_key VARCHAR(64) NOT NULL, 
	moderator_key VARCHAR(64) NOT NULL, 
	results_mode VARCHAR(8) NOT NULL, 
	current_position INTEGER NOT NULL, 
	results_revealed BOOLEAN NOT NULL, 
	created_at DATETIME NOT NULL, 
	PRIMARY KEY (id), 
	UNIQUE (code)
);
INSERT INTO "events" VALUES(1,'820135','{"nl": "Samen versnellen van AI in de zorg", "en": "Accelerating AI in healthcare together"}','nl','ai-in-de-zorg.toml','1d5a9a090ebbe0fbc608fc62419f2229','58e5a7570b29de0106f600c14f022817','hidden',2,0,'2026-11-23 01:22:16.422175');
INSERT INTO "events" VALUES(2,'998173','{"nl": "Samen versnellen van AI in de zorg", "en": "Accelerating AI in healthcare together"}','nl','ai-in-de-zorg.toml','3e1abd5d9eb180e31f571146603a52fd','35ab7c48365d5bd95760baea4bf8d453','hidden',2,0,'2026-11-23 01:22:16.589762');
CREATE TABLE options (
	id INTEGER NOT NULL, 
	statement_id INTEGER NOT NULL, 
	position INTEGER NOT NULL, 
	"key" VARCHAR(32) NOT NULL, 
	labels JSON NOT NULL, 
	PRIMARY KEY (id), 
	UNIQUE (statement_id, "key"), 
	FOREIGN KEY(statement_id) REFERENCES statements (id) ON DELETE CASCADE
);
INSERT INTO "options" VALUES(1,1,1,'agree','{"nl": "Eens", "en": "Agree"}');
INSERT INTO "options" VALUES(2,1,2,'disagree','{"nl": "Oneens", "en": "Disagree"}');
INSERT INTO "options" VALUES(3,2,1,'agree','{"nl": "Eens", "en": "Agree"}');
INSERT INTO "options" VALUES(4,2,2,'disagree','{"nl": "Oneens", "en": "Disagree"}');
INSERT INTO "options" VALUES(5,3,1,'agree','{"nl": "Eens", "en": "Agree"}');
INSERT INTO "options" VALUES(6,3,2,'disagree','{"nl": "Oneens", "en": "Disagree"}');
INSERT INTO "options" VALUES(7,4,1,'agree','{"nl": "Eens", "en": "Agree"}');
INSERT INTO "options" VALUES(8,4,2,'disagree','{"nl": "Oneens", "en": "Disagree"}');
INSERT INTO "options" VALUES(9,5,1,'agree','{"nl": "Eens", "en": "Agree"}');
INSERT INTO "options" VALUES(10,5,2,'disagree','{"nl": "Oneens", "en": "Disagree"}');
INSERT INTO "options" VALUES(11,6,1,'agree','{"nl": "Eens", "en": "Agree"}');
INSERT INTO "options" VALUES(12,6,2,'disagree','{"nl": "Oneens", "en": "Disagree"}');
INSERT INTO "options" VALUES(13,7,1,'agree','{"nl": "Eens", "en": "Agree"}');
INSERT INTO "options" VALUES(14,7,2,'disagree','{"nl": "Oneens", "en": "Disagree"}');
INSERT INTO "options" VALUES(15,8,1,'agree','{"nl": "Eens", "en": "Agree"}');
INSERT INTO "options" VALUES(16,8,2,'disagree','{"nl": "Oneens", "en": "Disagree"}');
CREATE TABLE participants (
	id INTEGER NOT NULL, 
	event_id INTEGER NOT NULL, 
	token_digest VARCHAR(64) NOT NULL, 
	joined_at DATETIME NOT NULL, 
	PRIMARY KEY (id), 
	UNIQUE (event_id, token_digest), 
	FOREIGN KEY(event_id) REFERENCES events (id) ON DELETE CASCADE
);
INSERT INTO "participants" VALUES(1,2,'8e9ab667602d339f1970c4b23cff35ea6c8c9a1fbccc4a3f40a154fe34d7f188','2026-11-23 01:22:16.605419');
INSERT INTO "participants" VALUES(2,2,'6165a903c241b07db185ec305bf70b6c33f6128faf553fadf10ff5494fb20e70','2026-11-23 01:22:16.620266');
INSERT INTO "participants" VALUES(3,2,'00bc610ed424e97a2bcc2c626f536d2b224942dfb6ded38f46de6c12a9cf3d36','2026-11-23 01:22:16.636137');
CREATE TABLE round_archives (
	round_id INTEGER NOT NULL, 
	counts JSON NOT NULL, 
	participants INTEGER NOT NULL, 
	purged_at DATETIME NOT NULL, 
	PRIMARY KEY (round_id), 
	FOREIGN KEY(round_id) REFERENCES rounds (id) ON DELETE CASCADE
);
INSERT INTO "round_archives" VALUES(1,'{"agree": 2, "disagree": 1}',3,'2026-11-23 01:22:16.582934');
INSERT INTO "round_archives" VALUES(2,'{"disagree": 2}',3,'2026-11-23 01:22:16.583752');
CREATE TABLE rounds (
	id INTEGER NOT NULL, 
	statement_id INTEGER NOT NULL, 
	number INTEGER NOT NULL, 
	opened_at DATETIME NOT NULL, 
	closed_at DATETIME, 
	PRIMARY KEY (id), 
	UNIQUE (statement_id, number), 
	FOREIGN KEY(statement_id) REFERENCES statements (id) ON DELETE CASCADE
);
INSERT INTO "rounds" VALUES(1,1,1,'2026-11-23 01:22:16.493139','2026-11-23 01:22:16.541722');
INSERT INTO "rounds" VALUES(2,1,2,'2026-11-23 01:22:16.545845','2026-11-23 01:22:16.576026');
INSERT INTO "rounds" VALUES(3,5,1,'2026-11-23 01:22:16.642224','2026-11-23 01:22:16.685751');
INSERT INTO "rounds" VALUES(4,5,2,'2026-11-23 01:22:16.689600','2026-11-23 01:22:16.720208');
CREATE TABLE statements (
	id INTEGER NOT NULL, 
	event_id INTEGER NOT NULL, 
	position INTEGER NOT NULL, 
	"key" VARCHAR(64) NOT NULL, 
	texts JSON NOT NULL, 
	PRIMARY KEY (id), 
	UNIQUE (event_id, position), 
	UNIQUE (event_id, "key"), 
	FOREIGN KEY(event_id) REFERENCES events (id) ON DELETE CASCADE
);
INSERT INTO "statements" VALUES(1,1,1,'value','{"en": {"theme": "Value and impact of AI", "question": "What does AI really deliver in healthcare?", "challenge": "Although AI holds great promise for healthcare, there is often little real insight into its actual effects on patient outcomes, work processes, workload, efficiency and societal value. The methods available to measure and validate this impact are limited and still being developed. This makes it hard to decide which AI innovations are truly valuable, where resources are best spent, and how AI can be integrated into daily practice responsibly and reliably.", "statement": "We invest millions in AI, but we don''t really know whether it makes healthcare better, so we would do better to invest in other healthcare initiatives."}, "nl": {"theme": "Waarde en impact van AI", "question": "Wat levert AI in de zorg \u00e9cht op?", "challenge": "Hoewel AI veelbelovend is voor de zorg, ontbreekt het vaak aan goed inzicht in de daadwerkelijke effecten op pati\u00ebntuitkomsten, werkprocessen, arbeidsdruk, effici\u00ebntie en maatschappelijke waarde. De beschikbare methoden om deze impact te meten en te valideren zijn beperkt en nog in ontwikkeling. Hierdoor is het lastig om te bepalen welke AI-innovaties echt waardevol zijn, waar middelen het beste kunnen worden ingezet, en hoe AI verantwoord en betrouwbaar kan worden ge\u00efntegreerd in de dagelijkse praktijk.", "statement": "We investeren miljoenen in AI, maar weten eigenlijk niet of het de zorg echt beter maakt, we kunnen daarom beter in andere initiatieven in de zorg investeren."}}');
INSERT INTO "statements" VALUES(2,1,2,'readiness','{"en": {"theme": "AI readiness of healthcare organisations", "question": "Is healthcare ready for AI?", "challenge": "Healthcare organisations differ widely in their readiness to implement AI, because of diverse technical, organisational and cultural factors. Often the knowledge, skills and support needed to integrate AI successfully are missing. As a result, implementation stalls, even when the technology is available.", "statement": "The biggest bottleneck for AI in healthcare is not the technology, but the organisation and the people in it."}, "nl": {"theme": "AI-readiness van zorgorganisaties", "question": "Is de zorg klaar voor AI?", "challenge": "Zorgorganisaties verschillen sterk in hun gereedheid om AI te implementeren, door uiteenlopende technische, organisatorische en culturele factoren. Vaak ontbreekt het aan kennis, vaardigheden en draagvlak om AI succesvol te integreren. Hierdoor stagneert de implementatie, zelfs als de technologie beschikbaar is.", "statement": "De grootste bottleneck voor AI in de zorg is niet de technologie, maar de organisatie en de mensen in de organisatie."}}');
INSERT INTO "statements" VALUES(3,1,3,'ethics','{"en": {"theme": "Ethical and social issues", "question": "How human-centred does healthcare stay with AI?", "challenge": "AI raises fundamental ethical and social questions, such as privacy, transparency and bias. In practice there is little concrete guidance for dealing with these dilemmas. Without attention to them, AI may change the relationship between care professional and patient and reinforce existing inequalities.", "statement": "AI makes healthcare more efficient, but threatens to lose the human touch."}, "nl": {"theme": "Ethische en sociale vraagstukken", "question": "Hoe mensgericht blijft de zorg met AI?", "challenge": "AI roept fundamentele ethische en sociale vragen op, zoals privacy, transparantie en bias. In de praktijk zijn er weinig concrete handvatten om met deze dilemma''s om te gaan. Zonder aandacht hiervoor kan AI de relatie tussen zorgprofessional en pati\u00ebnt veranderen en bestaande ongelijkheden versterken.", "statement": "AI maakt de zorg effici\u00ebnter, maar dreigt de menselijke maat te verliezen."}}');
INSERT INTO "statements" VALUES(4,1,4,'scaling','{"en": {"theme": "Scaling up AI applications", "question": "How do we get AI from pilot to practice?", "challenge": "Many AI innovations get stuck in the pilot phase and rarely reach large-scale use. This is due to fragmentation, lack of collaboration, insufficient data infrastructure and limited funding for scaling up. Without a structural approach, the impact of AI remains limited to isolated experiments, while the potential is much greater.", "statement": "The Netherlands should make national choices and fund a limited number of AI applications at scale, instead of supporting many small pilots."}, "nl": {"theme": "Opschaling van AI-toepassingen", "question": "Hoe krijgen we AI van pilot naar praktijk?", "challenge": "Veel AI-innovaties blijven hangen in de pilotfase en bereiken zelden grootschalige toepassing. Dit komt door versnippering, gebrek aan samenwerking, onvoldoende data-infrastructuur en beperkte financiering voor opschaling. Zonder structurele aanpak blijft de impact van AI beperkt tot losse experimenten, terwijl de potentie veel groter is.", "statement": "Nederland moet landelijke keuzes maken en een beperkt aantal AI-toepassingen grootschalig financieren, in plaats van veel kleine pilots ondersteunen."}}');
INSERT INTO "statements" VALUES(5,2,1,'value','{"en": {"theme": "Value and impact of AI", "question": "What does AI really deliver in healthcare?", "challenge": "Although AI holds great promise for healthcare, there is often little real insight into its actual effects on patient outcomes, work processes, workload, efficiency and societal value. The methods available to measure and validate this impact are limited and still being developed. This makes it hard to decide which AI innovations are truly valuable, where resources are best spent, and how AI can be integrated into daily practice responsibly and reliably.", "statement": "We invest millions in AI, but we don''t really know whether it makes healthcare better, so we would do better to invest in other healthcare initiatives."}, "nl": {"theme": "Waarde en impact van AI", "question": "Wat levert AI in de zorg \u00e9cht op?", "challenge": "Hoewel AI veelbelovend is voor de zorg, ontbreekt het vaak aan goed inzicht in de daadwerkelijke effecten op pati\u00ebntuitkomsten, werkprocessen, arbeidsdruk, effici\u00ebntie en maatschappelijke waarde. De beschikbare methoden om deze impact te meten en te valideren zijn beperkt en nog in ontwikkeling. Hierdoor is het lastig om te bepalen welke AI-innovaties echt waardevol zijn, waar middelen het beste kunnen worden ingezet, en hoe AI verantwoord en betrouwbaar kan worden ge\u00efntegreerd in de dagelijkse praktijk.", "statement": "We investeren miljoenen in AI, maar weten eigenlijk niet of het de zorg echt beter maakt, we kunnen daarom beter in andere initiatieven in de zorg investeren."}}');
INSERT INTO "statements" VALUES(6,2,2,'readiness','{"en": {"theme": "AI readiness of healthcare organisations", "question": "Is healthcare ready for AI?", "challenge": "Healthcare organisations differ widely in their readiness to implement AI, because of diverse technical, organisational and cultural factors. Often the knowledge, skills and support needed to integrate AI successfully are missing. As a result, implementation stalls, even when the technology is available.", "statement": "The biggest bottleneck for AI in healthcare is not the technology, but the organisation and the people in it."}, "nl": {"theme": "AI-readiness van zorgorganisaties", "question": "Is de zorg klaar voor AI?", "challenge": "Zorgorganisaties verschillen sterk in hun gereedheid om AI te implementeren, door uiteenlopende technische, organisatorische en culturele factoren. Vaak ontbreekt het aan kennis, vaardigheden en draagvlak om AI succesvol te integreren. Hierdoor stagneert de implementatie, zelfs als de technologie beschikbaar is.", "statement": "De grootste bottleneck voor AI in de zorg is niet de technologie, maar de organisatie en de mensen in de organisatie."}}');
INSERT INTO "statements" VALUES(7,2,3,'ethics','{"en": {"theme": "Ethical and social issues", "question": "How human-centred does healthcare stay with AI?", "challenge": "AI raises fundamental ethical and social questions, such as privacy, transparency and bias. In practice there is little concrete guidance for dealing with these dilemmas. Without attention to them, AI may change the relationship between care professional and patient and reinforce existing inequalities.", "statement": "AI makes healthcare more efficient, but threatens to lose the human touch."}, "nl": {"theme": "Ethische en sociale vraagstukken", "question": "Hoe mensgericht blijft de zorg met AI?", "challenge": "AI roept fundamentele ethische en sociale vragen op, zoals privacy, transparantie en bias. In de praktijk zijn er weinig concrete handvatten om met deze dilemma''s om te gaan. Zonder aandacht hiervoor kan AI de relatie tussen zorgprofessional en pati\u00ebnt veranderen en bestaande ongelijkheden versterken.", "statement": "AI maakt de zorg effici\u00ebnter, maar dreigt de menselijke maat te verliezen."}}');
INSERT INTO "statements" VALUES(8,2,4,'scaling','{"en": {"theme": "Scaling up AI applications", "question": "How do we get AI from pilot to practice?", "challenge": "Many AI innovations get stuck in the pilot phase and rarely reach large-scale use. This is due to fragmentation, lack of collaboration, insufficient data infrastructure and limited funding for scaling up. Without a structural approach, the impact of AI remains limited to isolated experiments, while the potential is much greater.", "statement": "The Netherlands should make national choices and fund a limited number of AI applications at scale, instead of supporting many small pilots."}, "nl": {"theme": "Opschaling van AI-toepassingen", "question": "Hoe krijgen we AI van pilot naar praktijk?", "challenge": "Veel AI-innovaties blijven hangen in de pilotfase en bereiken zelden grootschalige toepassing. Dit komt door versnippering, gebrek aan samenwerking, onvoldoende data-infrastructuur en beperkte financiering voor opschaling. Zonder structurele aanpak blijft de impact van AI beperkt tot losse experimenten, terwijl de potentie veel groter is.", "statement": "Nederland moet landelijke keuzes maken en een beperkt aantal AI-toepassingen grootschalig financieren, in plaats van veel kleine pilots ondersteunen."}}');
CREATE TABLE votes (
	id INTEGER NOT NULL, 
	round_id INTEGER NOT NULL, 
	participant_id INTEGER NOT NULL, 
	option_id INTEGER NOT NULL, 
	cast_at DATETIME NOT NULL, 
	PRIMARY KEY (id), 
	CONSTRAINT one_vote_per_round UNIQUE (round_id, participant_id), 
	FOREIGN KEY(round_id) REFERENCES rounds (id) ON DELETE CASCADE, 
	FOREIGN KEY(participant_id) REFERENCES participants (id) ON DELETE CASCADE, 
	FOREIGN KEY(option_id) REFERENCES options (id) ON DELETE CASCADE
);
INSERT INTO "votes" VALUES(1,3,1,9,'2026-11-23 01:22:16.655650');
INSERT INTO "votes" VALUES(2,3,2,9,'2026-11-23 01:22:16.669106');
INSERT INTO "votes" VALUES(3,3,3,10,'2026-11-23 01:22:16.682039');
INSERT INTO "votes" VALUES(4,4,1,10,'2026-11-23 01:22:16.702835');
INSERT INTO "votes" VALUES(5,4,2,10,'2026-11-23 01:22:16.716360');
CREATE INDEX ix_events_deck_name ON events (deck_name);
CREATE INDEX ix_votes_round_id ON votes (round_id);
COMMIT;
