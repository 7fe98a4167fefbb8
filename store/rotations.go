package store

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/supportdesk/ivr/audit"
	"github.com/supportdesk/ivr/errs"
	"github.com/supportdesk/ivr/oncall"
)

// rotationSpec is how a rotation version is stored: the whole
// oncall.Rotation but its id, version and effective times, which are
// columns. TestRotationSpecCoversRotation fails when oncall.Rotation gains a
// field this does not carry.
type rotationSpec struct {
	Name         string               `json:"name"`
	Level        oncall.Level         `json:"level"`
	Layer        oncall.Layer         `json:"layer"`
	TimeZone     string               `json:"time_zone"`
	Handoff      oncall.ClockTime     `json:"handoff"`
	ShiftLength  oncall.ShiftLength   `json:"shift_length"`
	Start        oncall.Date          `json:"start"`
	Participants []int64              `json:"participants"`
	Restrictions []oncall.Restriction `json:"restrictions"`
}

func specOf(r oncall.Rotation) (string, error) {
	b, err := json.Marshal(rotationSpec{
		Name:         r.Name,
		Level:        r.Level,
		Layer:        r.Layer,
		TimeZone:     r.TimeZone,
		Handoff:      r.Handoff,
		ShiftLength:  r.ShiftLength,
		Start:        r.Start,
		Participants: r.Participants,
		Restrictions: r.Restrictions,
	})
	if err != nil {
		return "", fmt.Errorf("rotation spec: %w", err)
	}
	return string(b), nil
}

func (s rotationSpec) rotation(id int64, version int, from time.Time) oncall.Rotation {
	return oncall.Rotation{
		ID:            id,
		Version:       version,
		Name:          s.Name,
		Level:         s.Level,
		Layer:         s.Layer,
		TimeZone:      s.TimeZone,
		Handoff:       s.Handoff,
		ShiftLength:   s.ShiftLength,
		Start:         s.Start,
		Participants:  s.Participants,
		Restrictions:  s.Restrictions,
		EffectiveFrom: from,
	}
}

// loadRotations returns the versions of the rotations matching where (a
// condition on rotations r, "" for all), ordered by rotation id then
// version, with EffectiveTo filled from the next version's start or the
// rotation's end. One statement, so one consistent snapshot.
func loadRotations(ctx context.Context, q runner, where string, args ...any) ([]oncall.Rotation, error) {
	query := `SELECT v.rotation_id, v.version, v.effective_from, v.spec, r.ended_at
		FROM rotation_versions v JOIN rotations r ON r.id = v.rotation_id`
	if where != "" {
		query += " WHERE " + where
	}
	rows, err := q.query(ctx, query+" ORDER BY v.rotation_id, v.version", args...)
	if err != nil {
		return nil, fmt.Errorf("load rotations: %w", err)
	}
	defer rows.Close()
	var out []oncall.Rotation
	var ends []*time.Time // ends[i]: when out[i]'s rotation ended
	for rows.Next() {
		var (
			id, from int64
			version  int
			spec     string
			ended    nullTime
		)
		if err := rows.Scan(&id, &version, &from, &spec, &ended); err != nil {
			return nil, fmt.Errorf("load rotations: %w", err)
		}
		var s rotationSpec
		if err := json.Unmarshal([]byte(spec), &s); err != nil {
			return nil, fmt.Errorf("load rotations: rotation %d version %d: %w", id, version, err)
		}
		out = append(out, s.rotation(id, version, fromMicros(from)))
		ends = append(ends, ended.time())
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("load rotations: %w", err)
	}
	for i := range out {
		if i+1 < len(out) && out[i+1].ID == out[i].ID {
			to := out[i+1].EffectiveFrom
			out[i].EffectiveTo = &to
		} else {
			out[i].EffectiveTo = ends[i]
		}
	}
	return out, nil
}

// Rotations returns every version of every rotation, ended ones included,
// by rotation id then version.
func (db *DB) Rotations(ctx context.Context) ([]oncall.Rotation, error) {
	return loadRotations(ctx, db.reads(), "")
}

// Rotation returns the versions of rotation id, oldest first; NotFound if
// absent.
func (db *DB) Rotation(ctx context.Context, id int64) ([]oncall.Rotation, error) {
	versions, err := loadRotations(ctx, db.reads(), "r.id = ?", id)
	if err != nil {
		return nil, err
	}
	if len(versions) == 0 {
		return nil, errs.E(errs.NotFound, "", "rotation %d does not exist", id)
	}
	return versions, nil
}

func participantField(i int) string { return fmt.Sprintf("participants[%d]", i) }

// CreateRotation stores version 1 of a new rotation, in force from
// r.EffectiveFrom. Invalid (participants[i]) if a participant is not an
// existing, undeleted engineer.
func (db *DB) CreateRotation(ctx context.Context, actor string, r oncall.Rotation) (oncall.Rotation, error) {
	err := db.update(ctx, func(t *tx) error {
		if err := t.checkEngineers(ctx, r.Participants, participantField); err != nil {
			return err
		}
		spec, err := specOf(r)
		if err != nil {
			return err
		}
		r.ID, err = t.insert(ctx, "INSERT INTO rotations (created_at) VALUES (?)", micros(t.now))
		if err != nil {
			return err
		}
		r.Version = 1
		r.EffectiveFrom = roundTime(r.EffectiveFrom)
		r.EffectiveTo = nil
		if _, err := t.exec(ctx, `INSERT INTO rotation_versions (rotation_id, version, effective_from, spec)
			VALUES (?, ?, ?, ?)`, r.ID, r.Version, micros(r.EffectiveFrom), spec); err != nil {
			return err
		}
		return t.audit(ctx, actor, audit.Create, audit.Rotation, strconv.FormatInt(r.ID, 10), nil, r)
	})
	if err != nil {
		return oncall.Rotation{}, fmt.Errorf("create rotation: %w", err)
	}
	return r, nil
}

// lockRotation locks rotation id for a change and returns its latest
// version (EffectiveTo set if it has ended); NotFound if absent.
func (t *tx) lockRotation(ctx context.Context, id int64) (oncall.Rotation, error) {
	var ended nullTime
	err := t.queryRow(ctx, "SELECT ended_at FROM rotations WHERE id = ?"+t.d.forUpdate, id).Scan(&ended)
	if err != nil {
		return oncall.Rotation{}, notFound(err, audit.Rotation, id)
	}
	var (
		version int
		from    int64
		spec    string
	)
	err = t.queryRow(ctx, `SELECT version, effective_from, spec FROM rotation_versions
		WHERE rotation_id = ? ORDER BY version DESC LIMIT 1`, id).Scan(&version, &from, &spec)
	if err != nil {
		return oncall.Rotation{}, fmt.Errorf("latest version: %w", err)
	}
	var s rotationSpec
	if err := json.Unmarshal([]byte(spec), &s); err != nil {
		return oncall.Rotation{}, fmt.Errorf("rotation %d version %d: %w", id, version, err)
	}
	latest := s.rotation(id, version, fromMicros(from))
	latest.EffectiveTo = ended.time()
	return latest, nil
}

// UpdateRotation adds a version to rotation r.ID in force from
// r.EffectiveFrom. NotFound if absent; Conflict (effective_from) unless
// r.EffectiveFrom lies after the latest version's start and before the
// rotation's end; Invalid (participants[i]) for a bad participant.
func (db *DB) UpdateRotation(ctx context.Context, actor string, r oncall.Rotation) (oncall.Rotation, error) {
	err := db.update(ctx, func(t *tx) error {
		latest, err := t.lockRotation(ctx, r.ID)
		if err != nil {
			return err
		}
		r.EffectiveFrom = roundTime(r.EffectiveFrom)
		if !r.EffectiveFrom.After(latest.EffectiveFrom) {
			return errs.E(errs.Conflict, "effective_from", "must be after %s, when version %d took effect",
				latest.EffectiveFrom.Format(time.RFC3339Nano), latest.Version)
		}
		if latest.EffectiveTo != nil && !r.EffectiveFrom.Before(*latest.EffectiveTo) {
			return errs.E(errs.Conflict, "effective_from", "must be before %s, when the rotation ended",
				latest.EffectiveTo.Format(time.RFC3339Nano))
		}
		if err := t.checkEngineers(ctx, r.Participants, participantField); err != nil {
			return err
		}
		spec, err := specOf(r)
		if err != nil {
			return err
		}
		r.Version = latest.Version + 1
		r.EffectiveTo = latest.EffectiveTo
		if _, err := t.exec(ctx, `INSERT INTO rotation_versions (rotation_id, version, effective_from, spec)
			VALUES (?, ?, ?, ?)`, r.ID, r.Version, micros(r.EffectiveFrom), spec); err != nil {
			return err
		}
		return t.audit(ctx, actor, audit.Update, audit.Rotation, strconv.FormatInt(r.ID, 10), latest, r)
	})
	if err != nil {
		return oncall.Rotation{}, fmt.Errorf("update rotation %d: %w", r.ID, err)
	}
	return r, nil
}

// EndRotation ends rotation id at at. NotFound if absent; Conflict if it has
// ended already or at lies before its latest version's start. The audit
// entry is a delete whose after shows the latest version with its end.
func (db *DB) EndRotation(ctx context.Context, actor string, id int64, at time.Time) error {
	err := db.update(ctx, func(t *tx) error {
		latest, err := t.lockRotation(ctx, id)
		if err != nil {
			return err
		}
		if latest.EffectiveTo != nil {
			return errs.E(errs.Conflict, "", "rotation %d ended at %s already", id, latest.EffectiveTo.Format(time.RFC3339Nano))
		}
		at = roundTime(at)
		if at.Before(latest.EffectiveFrom) {
			return errs.E(errs.Conflict, "", "rotation %d cannot end at %s, before version %d takes effect at %s",
				id, at.Format(time.RFC3339Nano), latest.Version, latest.EffectiveFrom.Format(time.RFC3339Nano))
		}
		if _, err := t.exec(ctx, "UPDATE rotations SET ended_at = ? WHERE id = ?", micros(at), id); err != nil {
			return err
		}
		after := latest
		after.EffectiveTo = &at
		return t.audit(ctx, actor, audit.Delete, audit.Rotation, strconv.FormatInt(id, 10), latest, after)
	})
	if err != nil {
		return fmt.Errorf("end rotation %d: %w", id, err)
	}
	return nil
}
