-- The world becomes part of a resource reaction's identity: the same
-- resource, comment and user ids in two worlds are two rows, and reads by
-- resource (the primary key's prefix) see one world's. World '' is the
-- built-in world (the nodes' --world, whatever its id): rows from before
-- migration 0003 have it, and stay the built-in world's.
ALTER TABLE roomring_resource_reactions DROP CONSTRAINT roomring_resource_reactions_pkey;
ALTER TABLE roomring_resource_reactions ADD PRIMARY KEY (world, resource, comment, user_id);

-- Every world is counted now, the built-in world '' too (0003 left it out).
CREATE OR REPLACE FUNCTION roomring_count_reaction_worlds() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	IF TG_OP = 'UPDATE' AND OLD.world = NEW.world THEN
		RETURN NULL; -- a replacement: the world is part of the key
	END IF;
	IF TG_OP IN ('UPDATE', 'DELETE') THEN
		UPDATE roomring_resource_reaction_worlds SET reactions = reactions - 1 WHERE world = OLD.world;
	END IF;
	IF TG_OP IN ('INSERT', 'UPDATE') THEN
		INSERT INTO roomring_resource_reaction_worlds (world, reactions) VALUES (NEW.world, 1)
			ON CONFLICT (world) DO UPDATE SET reactions = roomring_resource_reaction_worlds.reactions + 1;
	END IF;
	RETURN NULL;
END
$$;
DELETE FROM roomring_resource_reaction_worlds;
INSERT INTO roomring_resource_reaction_worlds (world, reactions)
	SELECT world, count(*) FROM roomring_resource_reactions GROUP BY world;

-- roomring_put_reaction as in 0003, keyed by world: a write adds a
-- reaction to p_world only when the world holds none under its key, and
-- the built-in world's quota holds too.
CREATE OR REPLACE FUNCTION roomring_put_reaction(p_resource text, p_comment text, p_user_id text, p_reaction text,
	p_incognito boolean, p_updated timestamptz, p_room text, p_world text, world_max integer)
	RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
	IF world_max > 0 THEN
		PERFORM 1 FROM roomring_resource_reactions
			WHERE world = p_world AND resource = p_resource AND comment = p_comment AND user_id = p_user_id FOR UPDATE;
		IF NOT FOUND THEN
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
		ON CONFLICT (world, resource, comment, user_id) DO UPDATE
		SET reaction = excluded.reaction, incognito = excluded.incognito, updated = excluded.updated,
			room = excluded.room;
	RETURN true;
END
$$;
