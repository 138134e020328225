-- The room a resource reaction was made in, so the room's owner can count
-- what a room holds against its quotas (store.ReactionUsage) at a cost that
-- grows with the quotas, not with the room's rows. Rows stored before have
-- room ''.
ALTER TABLE roomring_resource_reactions ADD COLUMN room text COLLATE "C" NOT NULL DEFAULT '';
CREATE INDEX roomring_resource_reactions_room_user ON roomring_resource_reactions (room, user_id);

-- The distinct (resource, comment) targets reacted to in each room, with
-- their number of reactions, kept by a trigger in the writing transaction.
CREATE TABLE roomring_resource_reaction_targets (
	room      text COLLATE "C" NOT NULL,
	resource  text COLLATE "C" NOT NULL,
	comment   text COLLATE "C" NOT NULL,
	reactions integer NOT NULL,
	PRIMARY KEY (room, resource, comment)
);
INSERT INTO roomring_resource_reaction_targets (room, resource, comment, reactions)
	SELECT room, resource, comment, count(*) FROM roomring_resource_reactions GROUP BY room, resource, comment;

CREATE FUNCTION roomring_count_reaction_targets() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	IF TG_OP = 'UPDATE' AND OLD.room = NEW.room THEN
		RETURN NULL; -- a replacement in the same room: nothing moves
	END IF;
	IF TG_OP IN ('UPDATE', 'DELETE') THEN
		UPDATE roomring_resource_reaction_targets SET reactions = reactions - 1
			WHERE room = OLD.room AND resource = OLD.resource AND comment = OLD.comment;
		DELETE FROM roomring_resource_reaction_targets
			WHERE room = OLD.room AND resource = OLD.resource AND comment = OLD.comment AND reactions <= 0;
	END IF;
	IF TG_OP IN ('INSERT', 'UPDATE') THEN
		INSERT INTO roomring_resource_reaction_targets (room, resource, comment, reactions)
			VALUES (NEW.room, NEW.resource, NEW.comment, 1)
			ON CONFLICT (room, resource, comment) DO UPDATE
			SET reactions = roomring_resource_reaction_targets.reactions + 1;
	END IF;
	RETURN NULL;
END
$$;
CREATE TRIGGER roomring_resource_reactions_targets
	AFTER INSERT OR UPDATE OR DELETE ON roomring_resource_reactions
	FOR EACH ROW EXECUTE FUNCTION roomring_count_reaction_targets();
