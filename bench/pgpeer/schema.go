package pgpeer

import "strings"

// Schema is the DDL and the function, executed statement by statement.
const Schema = `
DROP TABLE IF EXISTS ledger, lots, commands, members, rates, tiers, settings CASCADE;

CREATE TABLE settings (
	cap_per_purchase bigint NOT NULL,
	min_redemption   bigint NOT NULL,
	pending_ms       bigint NOT NULL
);

CREATE TABLE rates (
	partner  text   NOT NULL,
	category text   NOT NULL,  -- '' = the partner's default rate
	points   bigint NOT NULL,
	per      bigint NOT NULL CHECK (per > 0),
	PRIMARY KEY (partner, category)
);

CREATE TABLE tiers (
	name          text   PRIMARY KEY,
	threshold     bigint NOT NULL UNIQUE,
	multiplier_bp bigint NOT NULL
);

CREATE TABLE members (
	id        text   PRIMARY KEY,
	available bigint NOT NULL DEFAULT 0,
	pending   bigint NOT NULL DEFAULT 0,
	spend     bigint NOT NULL DEFAULT 0,
	earned    bigint NOT NULL DEFAULT 0,
	redeemed  bigint NOT NULL DEFAULT 0
);

CREATE TABLE commands (
	id        text   PRIMARY KEY,
	hash      bigint NOT NULL,
	type      text   NOT NULL,
	member    text,
	partner   text,
	amount    bigint,
	points    bigint,
	refunded  bigint NOT NULL DEFAULT 0,
	clawed    bigint NOT NULL DEFAULT 0,
	cancelled boolean NOT NULL DEFAULT false,
	lot       bigint,
	error     text,
	at        timestamptz NOT NULL
);

CREATE TABLE lots (
	id         bigserial   PRIMARY KEY,
	member     text        NOT NULL REFERENCES members (id),
	command_id text        NOT NULL,
	points     bigint      NOT NULL,
	mature_at  timestamptz NOT NULL,
	matured    boolean     NOT NULL DEFAULT false
);
CREATE INDEX lots_due ON lots (member, mature_at) WHERE NOT matured;

CREATE TABLE ledger (
	seq        bigserial   PRIMARY KEY,
	command_id text        NOT NULL,
	kind       text        NOT NULL,
	member     text        NOT NULL,
	points     bigint      NOT NULL CHECK (points <> 0),
	at         timestamptz NOT NULL
);

CREATE OR REPLACE FUNCTION apply_cmd(
	p_type text, p_id text, p_hash bigint, p_member text, p_partner text, p_category text,
	p_amount bigint, p_points bigint, p_original text, p_at timestamptz,
	OUT code text, OUT o_available bigint, OUT o_pending bigint)
LANGUAGE plpgsql AS $fn$
DECLARE
	prev   commands%ROWTYPE;
	orig   commands%ROWTYPE;
	m      members%ROWTYPE;
	s      settings%ROWTYPE;
	r_pts  bigint;
	r_per  bigint;
	mult   bigint;
	pts    bigint;
	due    bigint;
	back   bigint;
	lot_id bigint;
	lot_pending boolean;
BEGIN
	code := 'ok';
	IF p_type = 'tick' THEN
		RETURN; -- lots mature lazily, when their member is touched
	END IF;
	SELECT * INTO prev FROM commands WHERE id = p_id;
	IF FOUND THEN
		IF prev.hash <> p_hash THEN code := 'id_conflict'; RETURN; END IF;
		code := coalesce(prev.error, 'ok');
		SELECT available, pending INTO o_available, o_pending FROM members WHERE id = prev.member;
		RETURN;
	END IF;
	SELECT * INTO s FROM settings;

	IF p_type = 'cancel_redemption' THEN
		SELECT * INTO orig FROM commands WHERE id = p_original AND type = 'redeem' AND error IS NULL FOR UPDATE;
		IF NOT FOUND THEN
			code := 'unknown_original';
		ELSIF orig.cancelled THEN
			code := 'already_cancelled';
		ELSE
			UPDATE members SET available = available + orig.points, redeemed = redeemed - orig.points
				WHERE id = orig.member RETURNING available, pending INTO o_available, o_pending;
			UPDATE commands SET cancelled = true WHERE id = orig.id;
			INSERT INTO ledger (command_id, kind, member, points, at) VALUES (p_id, 'cancel', orig.member, orig.points, p_at);
		END IF;
		INSERT INTO commands (id, hash, type, member, error, at)
			VALUES (p_id, p_hash, p_type, orig.member, nullif(code, 'ok'), p_at);
		RETURN;
	END IF;

	IF p_type NOT IN ('purchase', 'refund', 'redeem', 'adjust') THEN
		code := 'invalid';
		RETURN;
	END IF;
	IF p_partner IS NOT NULL AND NOT EXISTS (SELECT 1 FROM rates WHERE partner = p_partner AND category = '') THEN
		code := 'unknown_partner';
		INSERT INTO commands (id, hash, type, member, error, at) VALUES (p_id, p_hash, p_type, p_member, code, p_at);
		RETURN;
	END IF;

	-- The member: created on first sight, locked for the rest of the transaction.
	INSERT INTO members (id) VALUES (p_member) ON CONFLICT (id) DO NOTHING;
	SELECT * INTO m FROM members WHERE id = p_member FOR UPDATE;
	-- Lots whose return window has passed become available.
	WITH d AS (UPDATE lots SET matured = true WHERE member = p_member AND NOT matured AND mature_at <= p_at RETURNING points)
		SELECT coalesce(sum(points), 0) INTO due FROM d;
	IF due <> 0 THEN
		m.available := m.available + due;
		m.pending := m.pending - due;
		INSERT INTO ledger (command_id, kind, member, points, at) VALUES (p_id, 'mature', p_member, due, p_at);
	END IF;

	IF p_type = 'purchase' THEN
		SELECT points, per INTO r_pts, r_per FROM rates WHERE partner = p_partner AND category = coalesce(p_category, '');
		IF NOT FOUND THEN
			SELECT points, per INTO r_pts, r_per FROM rates WHERE partner = p_partner AND category = '';
		END IF;
		SELECT multiplier_bp INTO mult FROM tiers WHERE threshold <= m.spend ORDER BY threshold DESC LIMIT 1;
		pts := floor(p_amount::numeric * r_pts * mult / (r_per * 10000));
		IF s.cap_per_purchase > 0 AND pts > s.cap_per_purchase THEN pts := s.cap_per_purchase; END IF;
		m.spend := m.spend + p_amount;
		IF pts > 0 THEN
			INSERT INTO lots (member, command_id, points, mature_at, matured)
				VALUES (p_member, p_id, pts, p_at + make_interval(secs => s.pending_ms / 1000.0), s.pending_ms = 0)
				RETURNING id INTO lot_id;
			IF s.pending_ms = 0 THEN
				m.available := m.available + pts;
			ELSE
				m.pending := m.pending + pts;
			END IF;
			m.earned := m.earned + pts;
			INSERT INTO ledger (command_id, kind, member, points, at) VALUES (p_id, 'earn', p_member, pts, p_at);
		END IF;
		INSERT INTO commands (id, hash, type, member, partner, amount, points, lot, at)
			VALUES (p_id, p_hash, p_type, p_member, p_partner, p_amount, pts, lot_id, p_at);
	ELSIF p_type = 'refund' THEN
		SELECT * INTO orig FROM commands WHERE id = p_original AND type = 'purchase' AND error IS NULL FOR UPDATE;
		IF NOT FOUND THEN
			code := 'unknown_original';
		ELSIF orig.member <> p_member OR orig.partner <> p_partner THEN
			code := 'original_mismatch';
		ELSIF orig.refunded + p_amount > orig.amount THEN
			code := 'refund_exceeds_purchase';
		ELSE
			back := floor(orig.points::numeric * (orig.refunded + p_amount) / orig.amount) - orig.clawed;
			UPDATE commands SET refunded = refunded + p_amount, clawed = clawed + back WHERE id = orig.id;
			m.spend := greatest(m.spend - p_amount, 0);
			IF back > 0 THEN
				SELECT NOT matured INTO lot_pending FROM lots WHERE id = orig.lot;
				IF lot_pending THEN
					UPDATE lots SET points = points - back WHERE id = orig.lot;
					m.pending := m.pending - back;
				ELSE
					m.available := m.available - back;
				END IF;
				m.earned := m.earned - back;
				INSERT INTO ledger (command_id, kind, member, points, at) VALUES (p_id, 'clawback', p_member, -back, p_at);
			END IF;
		END IF;
		INSERT INTO commands (id, hash, type, member, partner, amount, error, at)
			VALUES (p_id, p_hash, p_type, p_member, p_partner, p_amount, nullif(code, 'ok'), p_at);
	ELSIF p_type = 'redeem' THEN
		IF p_points < s.min_redemption THEN
			code := 'below_min_redemption';
		ELSIF m.available < p_points THEN
			code := 'insufficient_points';
		ELSE
			m.available := m.available - p_points;
			m.redeemed := m.redeemed + p_points;
			INSERT INTO ledger (command_id, kind, member, points, at) VALUES (p_id, 'redeem', p_member, -p_points, p_at);
		END IF;
		INSERT INTO commands (id, hash, type, member, partner, points, error, at)
			VALUES (p_id, p_hash, p_type, p_member, p_partner, p_points, nullif(code, 'ok'), p_at);
	ELSE -- adjust
		IF p_points < 0 AND m.available < -p_points THEN
			code := 'insufficient_points';
		ELSIF p_points <> 0 THEN
			m.available := m.available + p_points;
			INSERT INTO ledger (command_id, kind, member, points, at) VALUES (p_id, 'adjust', p_member, p_points, p_at);
		END IF;
		INSERT INTO commands (id, hash, type, member, points, error, at)
			VALUES (p_id, p_hash, p_type, p_member, p_points, nullif(code, 'ok'), p_at);
	END IF;
	UPDATE members SET available = m.available, pending = m.pending, spend = m.spend, earned = m.earned, redeemed = m.redeemed
		WHERE id = p_member;
	o_available := m.available;
	o_pending := m.pending;
END
$fn$;
`

// Statements splits Schema (or any SQL script) into statements at top-level
// semicolons, keeping dollar-quoted bodies ($tag$ … $tag$) and quoted
// strings whole, and dropping comments-only pieces.
func Statements(script string) []string {
	var out []string
	var cur strings.Builder
	inQuote := byte(0)
	dollar := ""
	for i := 0; i < len(script); i++ {
		c := script[i]
		switch {
		case dollar != "":
			if strings.HasPrefix(script[i:], dollar) {
				cur.WriteString(dollar)
				i += len(dollar) - 1
				dollar = ""
				continue
			}
		case inQuote != 0:
			if c == inQuote {
				inQuote = 0
			}
		case c == '\'' || c == '"':
			inQuote = c
		case c == '-' && i+1 < len(script) && script[i+1] == '-':
			j := strings.IndexByte(script[i:], '\n')
			if j < 0 {
				j = len(script) - i
			}
			i += j - 1
			continue
		case c == '$':
			if j := strings.IndexByte(script[i+1:], '$'); j >= 0 && isTag(script[i+1:i+1+j]) {
				dollar = script[i : i+j+2]
				cur.WriteString(dollar)
				i += j + 1
				continue
			}
		case c == ';':
			if s := strings.TrimSpace(cur.String()); s != "" {
				out = append(out, s)
			}
			cur.Reset()
			continue
		}
		cur.WriteByte(c)
	}
	if s := strings.TrimSpace(cur.String()); s != "" {
		out = append(out, s)
	}
	return out
}

func isTag(s string) bool {
	for _, c := range s {
		if !(c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}
