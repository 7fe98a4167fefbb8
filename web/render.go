package web

import (
	"bytes"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"path"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/supportdesk/ivr/errs"
	"github.com/supportdesk/ivr/oncall"
)

// parseViews parses each template of templates/ beside the layout, one set
// per view.
func parseViews() (map[string]*template.Template, error) {
	funcs := template.FuncMap{"inc": func(i int) int { return i + 1 }}
	layout, err := template.New("layout.html").Funcs(funcs).ParseFS(files, "templates/layout.html")
	if err != nil {
		return nil, fmt.Errorf("parse the layout: %w", err)
	}
	names, err := fs.Glob(files, "templates/*.html")
	if err != nil {
		return nil, err
	}
	views := map[string]*template.Template{}
	for _, n := range names {
		name := strings.TrimSuffix(path.Base(n), ".html")
		if name == "layout" {
			continue
		}
		t, err := template.Must(layout.Clone()).ParseFS(files, n)
		if err != nil {
			return nil, fmt.Errorf("parse view %s: %w", name, err)
		}
		views[name] = t
	}
	return views, nil
}

// view is what a template sees: the request (viewer, language, zone), the
// view's own data, and helpers for words and times.
type view struct {
	*request
	Name string // the view, for the navigation's current item
	Data any
	// Errors are the form's field errors by input name; Form the values
	// sent, shown again.
	Errors map[string]string
	Form   map[string][]string
}

// T is the text of key in the page's language.
func (v view) T(key string, args ...any) string { return translate(v.lang, key, args...) }

// Lang is the page's language code.
func (v view) Lang() string { return string(v.lang) }

// Time writes t in the viewer's zone; Day only its day; Clock only HH:MM.
func (v view) Time(t time.Time) string { return formatTime(v.lang, t.In(v.zone)) }
func (v view) Day(t time.Time) string  { return formatDay(v.lang, t.In(v.zone)) }
func (v view) Clock(t time.Time) string {
	return t.In(v.zone).Format("15:04")
}

// Local writes t for a datetime-local input in the viewer's zone.
func (v view) Local(t time.Time) string { return t.In(v.zone).Format(localLayout) }

// ZoneName is the viewer's zone and its abbreviation now, e.g.
// "Europe/Moscow (MSK)".
func (v view) ZoneName() string {
	abbr, _ := time.Now().In(v.zone).Zone()
	if abbr == v.zone.String() {
		return abbr
	}
	return v.zone.String() + " (" + abbr + ")"
}

// Zone is the zone's IANA name; ZoneChosen whether the viewer picked it.
func (v view) Zone() string     { return v.zone.String() }
func (v view) ZoneChosen() bool { return v.zoneChosen }
func (v view) Viewer() viewer   { return v.viewer }
func (v view) SignedIn() bool   { return v.viewer.Token.ID != 0 }
func (v view) Zones() []string  { return []string{"Europe/Moscow", "America/New_York", "UTC"} }
func (v view) Levels() []string { return []string{"L1", "L2", "L3"} }
func (v view) Value(k string) string {
	if vs := v.Form[k]; len(vs) > 0 {
		return vs[0]
	}
	return ""
}

// Err is the error of the form's field name; ErrPrefix the first of any
// field under prefix (participants[2], shift_length.days).
func (v view) Err(name string) string { return v.Errors[name] }
func (v view) ErrPrefix(prefix string) string {
	for k, msg := range v.Errors {
		if k == prefix || strings.HasPrefix(k, prefix+"[") || strings.HasPrefix(k, prefix+".") {
			return msg
		}
	}
	return ""
}

// Fields lists names, for a template ranging over inputs alike.
func (v view) Fields(names ...string) []string { return names }

// Unverified reports whether pages do not go to c yet.
func (v view) Unverified(c oncall.ContactMethod) bool { return c.Unverified }

// CanVerify reports whether the page can send codes.
func (v view) CanVerify() bool { return v.verifies }

// Flash is the message of the change just made, if any.
func (v view) Flash() string {
	if v.flash == "" {
		return ""
	}
	key, arg, ok := strings.Cut(v.flash, ":")
	if _, known := words[key]; !known {
		return ""
	}
	if ok {
		return translate(v.lang, key, arg)
	}
	return translate(v.lang, key)
}

// Enum names one of the domain's codes (a priority, a status, an
// outcome) in the page's language; a code without words shows as it is.
func (v view) Enum(code any) string {
	c := fmt.Sprint(code)
	if c == "" {
		return ""
	}
	if _, ok := words["enum."+c]; ok {
		return v.T("enum." + c)
	}
	return c
}

// VoicemailPath is where the page plays the recording a call record or
// a page names by its URL (the API's /api/v1/recordings/{id}).
func (v view) VoicemailPath(recordingURL string) string {
	return "/voicemail/" + path.Base(recordingURL)
}

// LanguageName names a language in the page's language.
func (v view) LanguageName(l oncall.Language) string { return v.T("lang." + string(l)) }

// LayerName names a layer.
func (v view) LayerName(l oncall.Layer) string { return v.T(fmt.Sprintf("layer.%d", l)) }

// RoleName names the viewer's role.
func (v view) RoleName() string { return v.T("role." + string(v.viewer.Token.Role)) }

func (s *Server) render(w http.ResponseWriter, r *http.Request, c *request, name string, data any) error {
	return s.renderForm(w, r, http.StatusOK, c, name, data, nil, nil)
}

func (s *Server) renderStatus(w http.ResponseWriter, r *http.Request, status int, c *request, name string, data any) {
	if err := s.renderForm(w, r, status, c, name, data, nil, nil); err != nil {
		s.log.Error("render failed", zap.String(keyPath, r.URL.Path), zap.Error(err))
		http.Error(w, "the page could not be shown", http.StatusInternalServerError)
	}
}

// renderForm shows view name again with the form's errors and values.
func (s *Server) renderForm(w http.ResponseWriter, r *http.Request, status int, c *request, name string, data any,
	fieldErrs map[string]string, form map[string][]string) error {
	t, ok := s.views[name]
	if !ok {
		return fmt.Errorf("no view %q", name)
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout.html", view{request: c, Name: name, Data: data, Errors: fieldErrs, Form: form}); err != nil {
		return fmt.Errorf("render %s: %w", name, err)
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = buf.WriteTo(w)
	return nil
}

// fieldError returns the input a field error belongs to and its message,
// or ok false when err is not one (the caller returns it).
func fieldError(err error) (input, msg string, ok bool) {
	var e *errs.Error
	if !errors.As(err, &e) || e.Code != errs.Invalid || e.Field == "" {
		return "", "", false
	}
	return e.Field, e.Message, true
}
