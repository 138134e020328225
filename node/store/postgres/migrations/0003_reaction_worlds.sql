-- The world a resource reaction was made in, so a World's quota of stored
-- reactions (spec.quotas.resourceReactions) holds pool-wide. Rows stored
-- before have world '' and count against no world.
ALTER TABLE roomring_resource_reactions ADD COLUMN world text COLLATE "C" NOT NULL DEFAULT '';

-- The number of reactions of each world, kept by a trigger in the writing
-- transaction of every insert, delete and world change.
CREATE TABLE roomring_resource_reaction_worlds (
	world     text COLLATE "C" PRIMARY KEY,
	reactions integer NOT NULL
);

CREATE FUNCTION roomring_count_reaction_worlds() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	IF TG_OP = 'UPDATE' AND OLD.world = NEW.world THEN
		RETURN NULL; -- a replacement in the same world: nothing moves
	END IF;
	IF TG_OP IN ('UPDATE', 'DELETE') AND OLD.world <> '' THEN
		UPDATE roomring_resource_reaction_worlds SET reactions = reactions - 1 WHERE world = OLD.world;
	END IF;
	IF TG_OP IN ('INSERT', 'UPDATE') AND NEW.world <> '' THEN
		INSERT INTO roomring_resource_reaction_worlds (world, reactions) VALUES (NEW.world, 1)
			ON CONFLICT (world) DO UPDATE SET reactions = roomring_resource_reaction_worlds.reactions + 1;
	END IF;
	RETURN NULL;
END
$$;
CREATE TRIGGER roomring_resource_reactions_worlds
	AFTER INSERT OR UPDATE OR DELETE ON roomring_resource_reactions
	FOR EACH ROW EXECUTE FUNCTION roomring_count_reaction_worlds();

-- roomring_put_reaction stores a reaction like store.PutReaction: with
-- world_max > 0, a write that would add a reaction to p_world (a new key,
-- or a key of another world) while the world holds world_max or more is
-- refused (false, nothing written). The world's count row is locked FOR
-- UPDATE before it is compared, and the trigger increments it under that
-- lock, so writers on different nodes are serialised per world until
-- their transactions end: each sees the count its predecessor committed.
CREATE FUNCTION roomring_put_reaction(p_resource text, p_comment text, p_user_id text, p_reaction text,
	p_incognito boolean, p_updated timestamptz, p_room text, p_world text, world_max integer)
	RETURNS boolean LANGUAGE plpgsql AS $$
DECLARE
	old_world text;
BEGIN
	IF world_max > 0 AND p_world <> '' THEN
		SELECT world INTO old_world FROM roomring_resource_reactions
			WHERE resource = p_resource AND comment = p_comment AND user_id = p_user_id FOR UPDATE;
		IF NOT FOUND OR old_world <> p_world THEN
			INSERT INTO roomring_resource_reaction_worlds (world, reactions) VALUES (p_world, 0)
				ON CONFLICT (world) DO NOTHING;
			PERFORM 1 FROM roomring_resource_reaction_worlds
				WHERE world = p_world AND reactions < world_max FOR UPDATE;
			IF NOT FOUND THEN
				RETURN false;
			END IF;
		END IF;
	END IF;
	INSERT INTO roomring_resource_reactions (resource, comment, user_id, reaction, incognito, updated, room, world)
		VALUES (p_resource, p_comment, p_user_id, p_reaction, p_incognito, p_updated, p_room, p_world)
		ON CONFLICT (resource, comment, user_id) DO UPDATE
		SET reaction = excluded.reaction, incognito = excluded.incognito, updated = excluded.updated,
			room = excluded.room, world = excluded.world;
	RETURN true;
END
$$;
