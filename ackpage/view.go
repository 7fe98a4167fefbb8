package ackpage

import (
	"fmt"
	"html/template"
	"time"

	"github.com/supportdesk/ivr/oncall"
	"github.com/supportdesk/ivr/pager"
)

// view is what the page shows: a link not valid, a failure, or the page
// of the link for its engineer, in their first language.
type view struct {
	Invalid  bool // forged, changed, expired, or naming what is gone
	Broken   bool // the service failed; try again
	Lang     oncall.Language
	Engineer oncall.Engineer
	Page     pager.Page
	Posted   bool // the button was pressed
	Now      time.Time
	zone     *time.Location
}

var words = map[string][2]string{
	"page":       {"Вызов %d", "Page %d"},
	"priority":   {"Приоритет", "Priority"},
	"ticket":     {"Заявка", "Ticket"},
	"what":       {"Что", "What"},
	"caller":     {"Звонил", "Caller"},
	"raised":     {"Когда", "Raised"},
	"status":     {"Состояние", "Status"},
	"ack":        {"Принять вызов", "Acknowledge"},
	"hint":       {"Кнопка примет вызов от имени %s: больше никого вызывать не будут.", "The button acknowledges the page as %s: nobody else will be paged."},
	"voicemail":  {"голосовое сообщение", "voicemail"},
	"missed":     {"звонок без ответа", "missed call"},
	"open":       {"открыт, ждёт дежурного", "open, waiting for an engineer"},
	"acked":      {"принят: %s, %s", "acknowledged by %s, %s"},
	"resolved":   {"закрыт: %s", "resolved by %s"},
	"expired":    {"не отправлен: записан до запуска пейджера и просрочен", "never sent: recorded before the pager existed, and overdue"},
	"mine-now":   {"Вы приняли вызов. Больше никого не вызывают.", "You acknowledged the page. Nobody else will be paged."},
	"mine":       {"Вы приняли этот вызов: %s.", "You acknowledged this page: %s."},
	"taken":      {"Вызов уже принят: %s, %s.", "%s already acknowledged this page, %s."},
	"closed":     {"Вызов закрыт: %s. Принимать нечего.", "The page was resolved by %s: there is nothing to acknowledge."},
	"never-sent": {"Этот вызов не отправлялся. Принимать нечего.", "This page was never sent: there is nothing to acknowledge."},
}

var priorities = map[oncall.Priority][2]string{
	oncall.Critical: {"критический", "critical"},
	oncall.Urgent:   {"срочный", "urgent"},
	oncall.Normal:   {"обычный", "normal"},
	oncall.Low:      {"низкий", "low"},
}

func (v view) pick(w [2]string) string {
	if v.Lang == oncall.Russian {
		return w[0]
	}
	return w[1]
}

// T is the word key in the view's language, formatted with args.
func (v view) T(key string, args ...any) string {
	w, ok := words[key]
	if !ok {
		return key
	}
	if len(args) == 0 {
		return v.pick(w)
	}
	return fmt.Sprintf(v.pick(w), args...)
}

// Title names the page.
func (v view) Title() string { return v.T("page", v.Page.ID) }

// Priority is the page's priority in the view's language.
func (v view) Priority() string {
	if w, ok := priorities[v.Page.Priority]; ok {
		return v.pick(w)
	}
	return string(v.Page.Priority)
}

// What is the page's summary, or what the caller left for the IVR's
// pages.
func (v view) What() string {
	p := v.Page
	switch {
	case p.Summary != "":
		return p.Summary
	case p.Recording != "" && p.RecordingSeconds > 0:
		return fmt.Sprintf("%s %d:%02d", v.T("voicemail"), p.RecordingSeconds/60, p.RecordingSeconds%60)
	case p.Recording != "":
		return v.T("voicemail")
	case p.Source == pager.FromCall || p.Source == pager.FromFallback || p.Source == pager.FromUpgrade:
		return v.T("missed")
	}
	return ""
}

// Raised says how long ago the page was raised.
func (v view) Raised() string { return pager.Ago(v.Lang, v.Now.Sub(v.Page.RaisedAt)) }

func (v view) at(t time.Time) string {
	loc := v.zone
	if loc == nil {
		loc = time.UTC
	}
	if v.Lang == oncall.Russian {
		return t.In(loc).Format("02.01.2006 15:04 MST")
	}
	return t.In(loc).Format("2 Jan 2006 15:04 MST")
}

// Status is the page's status in a few words.
func (v view) Status() string {
	p := v.Page
	switch p.Status {
	case pager.Open:
		return v.T("open")
	case pager.Acknowledged:
		return v.T("acked", p.AckedByName, v.at(p.AckedAt))
	case pager.Resolved:
		return v.T("resolved", p.ResolvedBy)
	case pager.Expired:
		return v.T("expired")
	}
	return string(p.Status)
}

// Open reports whether the page can be acknowledged: the button shows.
func (v view) Open() bool { return v.Page.Status == pager.Open }

// Result says what the engineer's link did or can do, for a closed page;
// Mine whether the engineer holds it.
func (v view) Result() string {
	p := v.Page
	switch {
	case p.Status == pager.Acknowledged && p.AckedBy == v.Engineer.ID && v.Posted:
		return v.T("mine-now")
	case p.Status == pager.Acknowledged && p.AckedBy == v.Engineer.ID:
		return v.T("mine", v.at(p.AckedAt))
	case p.Status == pager.Acknowledged:
		return v.T("taken", p.AckedByName, v.at(p.AckedAt))
	case p.Status == pager.Resolved:
		return v.T("closed", p.ResolvedBy)
	case p.Status == pager.Expired:
		return v.T("never-sent")
	}
	return ""
}

// Mine reports whether the page is acknowledged by the link's engineer.
func (v view) Mine() bool {
	return v.Page.Status == pager.Acknowledged && v.Page.AckedBy == v.Engineer.ID
}

// Hint says what the button does.
func (v view) Hint() string { return v.T("hint", v.Engineer.Name) }

// style is the page's one stylesheet; the Content-Security-Policy allows
// it by its hash, so it is written into the page exactly as it is here.
const style = `
body{margin:0;font:17px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;background:#f4f4f5;color:#18181b}
main{max-width:32rem;margin:0 auto;padding:1.25rem}
h1{font-size:1.5rem;margin:.25rem 0 1rem}
dl{display:grid;grid-template-columns:max-content 1fr;gap:.35rem 1rem;margin:0 0 1.25rem;padding:1rem;background:#fff;border-radius:.75rem}
dt{color:#52525b}
dd{margin:0;overflow-wrap:anywhere}
.p-critical,.p-urgent{font-weight:700;color:#b91c1c}
button{display:block;width:100%;padding:1rem;font:inherit;font-size:1.2rem;font-weight:700;color:#fff;background:#15803d;border:0;border-radius:.75rem}
.hint{color:#52525b;font-size:.9rem}
.result{padding:1rem;border-radius:.75rem;background:#fef9c3}
.result.mine{background:#dcfce7}
.en{margin-top:2rem;padding-top:1rem;border-top:1px solid #d4d4d8}
`

var page = template.Must(template.New("ack").Parse(`<!DOCTYPE html>
<html lang="{{if or .Invalid .Broken}}ru{{else}}{{.Lang}}{{end}}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex, nofollow">
<meta name="referrer" content="no-referrer">
<title>{{if .Invalid}}Ссылка недействительна · Link not valid{{else if .Broken}}Ошибка · Error{{else}}{{.Title}}{{end}}</title>
<style>` + style + `</style>
</head>
<body>
<main>
{{- if .Invalid}}
<h1>Ссылка недействительна</h1>
<p>Она устарела (ссылка работает до суток после срока ответа на вызов) или скопирована не целиком. Ответьте на SMS номером вызова или примите его по телефону.</p>
<div class="en" lang="en">
<h1>This link is not valid</h1>
<p>It has expired (a link works until a day after the page's deadline) or was not copied whole. Reply to the text with the page's number, or acknowledge it on the page call.</p>
</div>
{{- else if .Broken}}
<h1>Не получилось</h1>
<p>Сервис не смог обработать запрос. Попробуйте ещё раз через минуту или ответьте на SMS номером вызова.</p>
<div class="en" lang="en">
<h1>Something went wrong</h1>
<p>The service could not handle the request. Try again in a minute, or reply to the text with the page's number.</p>
</div>
{{- else}}
<h1>{{.Title}}</h1>
<dl>
<dt>{{.T "priority"}}</dt><dd class="p-{{.Page.Priority}}">{{.Priority}}</dd>
{{- with .Page.TicketID}}
<dt>{{$.T "ticket"}}</dt><dd>{{.}}</dd>
{{- end}}
{{- with .What}}
<dt>{{$.T "what"}}</dt><dd>{{.}}</dd>
{{- end}}
{{- with .Page.Caller}}
<dt>{{$.T "caller"}}</dt><dd>{{.}}</dd>
{{- end}}
<dt>{{.T "raised"}}</dt><dd>{{.Raised}}</dd>
<dt>{{.T "status"}}</dt><dd>{{.Status}}</dd>
</dl>
{{- with .Result}}
<p class="result{{if $.Mine}} mine{{end}}">{{.}}</p>
{{- end}}
{{- if .Open}}
<form method="post">
<button type="submit">{{.T "ack"}}</button>
</form>
<p class="hint">{{.Hint}}</p>
{{- end}}
{{- end}}
</main>
</body>
</html>
`))
