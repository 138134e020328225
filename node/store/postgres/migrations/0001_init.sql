-- roomring's durable state. Every table is prefixed roomring_ so the schema
-- can share a database with the event platform's own tables. Ids are text
-- with the "C" collation: ordering is byte order, as in the bbolt store.

-- Room catalog records (standalone mode): opaque JSON kept byte for byte.
CREATE TABLE roomring_rooms (
	id     text COLLATE "C" PRIMARY KEY,
	record bytea NOT NULL
);

-- Anonymous invites. seq orders a room's invites: the newest is the one
-- put last.
CREATE SEQUENCE roomring_invites_seq;
CREATE TABLE roomring_invites (
	code    text COLLATE "C" PRIMARY KEY,
	room    text COLLATE "C" NOT NULL,
	expires timestamptz NOT NULL,
	seq     bigint NOT NULL DEFAULT nextval('roomring_invites_seq')
);
CREATE INDEX roomring_invites_room ON roomring_invites (room, seq);

-- Resource reactions: one per user per (resource, comment); comment '' is
-- the resource itself. The primary key serves reads by resource in user id
-- order.
CREATE TABLE roomring_resource_reactions (
	resource  text COLLATE "C" NOT NULL,
	comment   text COLLATE "C" NOT NULL,
	user_id   text COLLATE "C" NOT NULL,
	reaction  text NOT NULL,
	incognito boolean NOT NULL,
	updated   timestamptz NOT NULL,
	PRIMARY KEY (resource, comment, user_id)
);
