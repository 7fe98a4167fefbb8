package web

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/supportdesk/ivr/oncall"
)

// words is the page's text, Russian then English, like the phone lines'
// prompts. A key missing here shows as itself, which the tests catch.
var words = map[string][2]string{
	"title":           {"Дежурства техподдержки", "Support on-call"},
	"skip":            {"К содержимому", "Skip to content"},
	"nav.board":       {"Сейчас", "Now"},
	"nav.timeline":    {"График", "Timeline"},
	"nav.overrides":   {"Замены", "Overrides"},
	"nav.engineers":   {"Инженеры", "Engineers"},
	"nav.calls":       {"Звонки", "Calls"},
	"nav.pages":       {"Вызовы", "Pages"},
	"nav.audit":       {"Журнал", "Audit"},
	"signed-in-as":    {"Вы вошли как %s (%s)", "Signed in as %s (%s)"},
	"role.admin":      {"администратор", "admin"},
	"role.engineer":   {"инженер", "engineer"},
	"sign-out":        {"Выйти", "Sign out"},
	"sign-in":         {"Вход", "Sign in"},
	"sign-in.token":   {"API-токен", "API token"},
	"sign-in.hint":    {"Токен выдаёт администратор (ivr token create или /api/v1/tokens). Страница хранит не его, а сеанс на 12 часов.", "An admin issues tokens (ivr token create or /api/v1/tokens). The page keeps a 12-hour session, not the token."},
	"sign-in.button":  {"Войти", "Sign in"},
	"signed-out":      {"Вы вышли.", "You are signed out."},
	"too-many":        {"Слишком много попыток входа. Повторите через %s.", "Too many sign-in attempts. Try again in %s."},
	"zone":            {"Часовой пояс", "Time zone"},
	"zone.browser":    {"как в браузере", "the browser's"},
	"zone.show":       {"Показать", "Show"},
	"times-in":        {"Время: %s", "Times in %s"},
	"language":        {"Язык", "Language"},
	"csrf":            {"Форма устарела или отправлена с другого сайта. Обновите страницу и повторите.", "The form expired or was sent from another site. Reload the page and try again."},
	"forbidden":       {"Это доступно только администраторам.", "Only admins may do this."},
	"forbidden.other": {"Можно менять только свои контакты.", "You may change only your own contacts."},
	"not-found":       {"Не найдено.", "Not found."},
	"broken":          {"Сервис не смог выполнить запрос. Повторите позже.", "The service could not do this. Try again shortly."},
	"saved":           {"Сохранено.", "Saved."},
	"fix-below":       {"Исправьте отмеченные поля.", "Please fix the fields marked below."},

	"board.oncall":   {"Кто дежурит сейчас", "Who is on call now"},
	"level":          {"Уровень", "Level"},
	"layer":          {"Слой", "Layer"},
	"layer.1":        {"основной", "primary"},
	"layer.2":        {"резервный", "secondary"},
	"engineer":       {"Инженер", "Engineer"},
	"until":          {"До", "Until"},
	"next":           {"Следующий", "Next"},
	"nobody":         {"Никого: дежурство не покрыто", "Nobody: coverage gap"},
	"no-end":         {"без срока", "until further notice"},
	"from-at":        {"с %s", "from %s"},
	"lines":          {"Линии", "Lines"},
	"number":         {"Номер", "Number"},
	"line":           {"Линия", "Line"},
	"first-language": {"Язык приветствия", "Greeting language"},
	"lang.ru":        {"русский", "Russian"},
	"lang.en":        {"английский", "English"},
	"open-pages":     {"Открытые вызовы", "Pages open now"},
	"no-open-pages":  {"Открытых вызовов нет.", "No page is open."},

	"timeline.head": {"Дежурства на 14 дней с %s", "Shifts for 14 days from %s"},
	"earlier":       {"← раньше", "← earlier"},
	"later":         {"позже →", "later →"},
	"today":         {"сегодня", "today"},
	"gaps":          {"Непокрытое время", "Coverage gaps"},
	"gap.row":       {"никого", "nobody"},
	"gap.text":      {"%s: никто не дежурит с %s до %s", "%s: nobody on call from %s to %s"},
	"no-gaps":       {"Всё время покрыто.", "Every hour is covered."},
	"override":      {"замена", "override"},
	"day-hours":     {"%d ч", "%d h"},
	"shift.text":    {"%s, %s – %s", "%s, %s – %s"},

	"overrides.head":   {"Замены", "Overrides"},
	"overrides.none":   {"Замен нет.", "No overrides."},
	"override.add":     {"Добавить замену", "Add an override"},
	"override.remove":  {"Удалить", "Remove"},
	"override.removed": {"Замена удалена.", "Override removed."},
	"override.added":   {"Замена добавлена.", "Override added."},
	"from":             {"С", "From"},
	"to":               {"До", "To"},
	"reason":           {"Причина", "Reason"},
	"choose":           {"— выберите —", "— choose —"},
	"add":              {"Добавить", "Add"},
	"swap.head":        {"Обменять две смены", "Swap two shifts"},
	"swap.first":       {"Первая смена", "First shift"},
	"swap.second":      {"Вторая смена", "Second shift"},
	"swap.button":      {"Обменять", "Swap"},
	"swap.done":        {"Смены обменяны: две замены добавлены.", "Shifts swapped: two overrides added."},
	"swap.same":        {"выберите смены двух разных инженеров", "choose shifts of two different engineers"},
	"swap.none":        {"выберите смену", "choose a shift"},

	"engineers.head": {"Инженеры", "Engineers"},
	"name":           {"Имя", "Name"},
	"languages":      {"Языки", "Languages"},
	"phones":         {"Телефоны", "Phones"},
	"contacts":       {"Контакты", "Contacts"},
	"contacts.edit":  {"Изменить контакты", "Edit contacts"},
	"contacts.head":  {"Контакты: %s", "Contacts of %s"},
	"contacts.hint":  {"Номер в международном формате: +7…, +1…. Пустая строка удаляет номер.", "A number in international form: +7…, +1…. An empty row removes a number."},
	"phone":          {"Телефон", "Phone"},
	"sms":            {"SMS", "Texts (SMS)"},
	"unverified":     {"не подтверждён", "unverified"},
	"verified":       {"подтверждён", "verified"},
	"verify.send":    {"Прислать код", "Send a code"},
	"verify.code":    {"Код", "Code"},
	"verify.confirm": {"Подтвердить", "Confirm"},
	"verify.sent":    {"Код отправлен на %s.", "A code was sent to %s."},
	"verify.done":    {"Номер %s подтверждён.", "%s is verified."},
	"verify.hint":    {"Вызовы идут только на подтверждённые номера.", "Pages go only to verified numbers."},
	"save":           {"Сохранить", "Save"},
	"rotations.head": {"Ротации", "Rotations"},
	"rotation.edit":  {"Изменить", "Edit"},
	"rotation.head":  {"Ротация %s", "Rotation %s"},
	"participants":   {"Участники по порядку", "Participants, in order"},
	"handoff":        {"Пересменка (ЧЧ:ММ)", "Hand-off (HH:MM)"},
	"shift-length":   {"Длина смены", "Shift length"},
	"days":           {"дней", "days"},
	"hours":          {"часов", "hours"},
	"start-date":     {"Первая смена (дата)", "First shift (date)"},
	"rotation-zone":  {"Часовой пояс ротации", "Rotation's time zone"},
	"effective-from": {"Действует с", "In force from"},
	"rotation.saved": {"Сохранена версия %d.", "Version %d saved."},
	"restrictions":   {"Ограничения по времени не меняются здесь (API или YAML).", "Time-of-day restrictions are kept as they are (edit them through the API or YAML)."},
	"participant.n":  {"Участник %d", "Participant %d"},
	"calls.head":     {"Звонки", "Calls"},
	"calls.none":     {"Звонков нет.", "No calls yet."},
	"started":        {"Начало", "Started"},
	"caller":         {"Кто звонил", "Caller"},
	"ticket":         {"Заявка", "Ticket"},
	"priority":       {"Приоритет", "Priority"},
	"outcome":        {"Итог", "Outcome"},
	"answered-by":    {"Ответил", "Answered by"},
	"voicemail":      {"Голосовое сообщение", "Voicemail"},
	"call.head":      {"Звонок %s", "Call %s"},
	"steps":          {"Шаги", "Steps"},
	"note":           {"Заметка", "Note"},
	"duration":       {"Длительность", "Duration"},
	"pages.head":     {"Вызовы дежурных", "Pages"},
	"pages.none":     {"Вызовов нет.", "No pages yet."},
	"page.head":      {"Вызов %d", "Page %d"},
	"status":         {"Состояние", "Status"},
	"raised":         {"Создан", "Raised"},
	"deadline":       {"Срок ответа", "Respond by"},
	"summary":        {"Что", "What"},
	"acked-by":       {"Принял", "Acknowledged by"},
	"ack":            {"Принять вызов", "Acknowledge"},
	"acked":          {"Вызов принят.", "Page acknowledged."},
	"attempts":       {"Журнал вызова", "The page's log"},
	"kind":           {"Канал", "Channel"},
	"to-whom":        {"Кому", "To"},
	"result":         {"Результат", "Result"},
	"live":           {"Обновляется каждые 15 секунд.", "Refreshes every 15 seconds."},
	"audit.head":     {"Журнал изменений", "Audit log"},
	"when":           {"Когда", "When"},
	"who":            {"Кто", "Who"},
	"what":           {"Что", "What"},
	"before":         {"До", "Before"},
	"after":          {"После", "After"},
	"older":          {"Старее →", "Older →"},
	"audit.none":     {"Изменений нет.", "No changes yet."},

	// The domain's codes as the page names them (Enum).
	"enum.critical":        {"критический", "critical"},
	"enum.urgent":          {"срочный", "urgent"},
	"enum.normal":          {"обычный", "normal"},
	"enum.low":             {"низкий", "low"},
	"enum.open":            {"открыт", "open"},
	"enum.acknowledged":    {"принят", "acknowledged"},
	"enum.resolved":        {"закрыт", "resolved"},
	"enum.expired":         {"просрочен", "expired"},
	"enum.connected":       {"соединён", "connected"},
	"enum.voicemail":       {"голосовое сообщение", "voicemail"},
	"enum.abandoned":       {"брошен", "abandoned"},
	"enum.hung-up":         {"положил трубку", "hung up"},
	"enum.voice":           {"звонок", "call"},
	"enum.sms":             {"SMS", "text"},
	"enum.note":            {"заметка в заявке", "ticket note"},
	"enum.page":            {"вызов", "page"},
	"enum.notice":          {"уведомление", "notice"},
	"enum.last-resort":     {"последний контакт", "last resort"},
	"enum.code":            {"код подтверждения", "verification code"},
	"enum.leg":             {"звонок клиента", "client's call"},
	"enum.intended":        {"в очереди", "queued"},
	"enum.sending":         {"отправляется", "sending"},
	"enum.sent":            {"отправлен", "sent"},
	"enum.in-doubt":        {"неизвестно, ушёл ли", "in doubt"},
	"enum.done":            {"завершён", "done"},
	"enum.no-answer":       {"не ответил", "no answer"},
	"enum.busy":            {"занято", "busy"},
	"enum.answered-no-key": {"ответил, не нажал 1", "answered, no key"},
	"enum.machine":         {"автоответчик", "answering machine"},
	"enum.delivered":       {"доставлено", "delivered"},
	"enum.accepted":        {"принято", "accepted"},
	"enum.undelivered":     {"не доставлено", "undelivered"},
	"enum.failed":          {"ошибка", "failed"},
	"enum.rejected":        {"отклонено", "rejected"},
	"enum.opted-out":       {"отписан от SMS", "opted out"},
	"enum.canceled":        {"отменено", "canceled"},
	"enum.folded":          {"объединён с другим вызовом", "folded into another call"},
	"enum.completed":       {"завершён", "completed"},
	"enum.api":             {"через API", "through the API"},
	"enum.web":             {"на сайте", "on the web page"},
	"enum.link":            {"по ссылке", "by link"},
}

// pick chooses l's variant of w.
func pick(l oncall.Language, w [2]string) string {
	if l == oncall.Russian {
		return w[0]
	}
	return w[1]
}

// translate returns key's text in l, formatted with args.
func translate(l oncall.Language, key string, args ...any) string {
	w, ok := words[key]
	if !ok {
		return key
	}
	if len(args) == 0 {
		return pick(l, w)
	}
	return fmt.Sprintf(pick(l, w), args...)
}

var (
	weekdaysRU = [...]string{"вс", "пн", "вт", "ср", "чт", "пт", "сб"}
	monthsRU   = [...]string{"янв", "фев", "мар", "апр", "мая", "июн", "июл", "авг", "сен", "окт", "ноя", "дек"}
)

// formatDay writes a day as "Tue 1 Dec" or "вт 1 дек".
func formatDay(l oncall.Language, t time.Time) string {
	if l == oncall.Russian {
		return fmt.Sprintf("%s %d %s", weekdaysRU[t.Weekday()], t.Day(), monthsRU[t.Month()-1])
	}
	return t.Format("Mon 2 Jan")
}

// formatTime writes an instant as the day and the 24-hour time, in t's
// location: "Tue 1 Dec 09:00".
func formatTime(l oncall.Language, t time.Time) string {
	return formatDay(l, t) + " " + t.Format("15:04")
}

// language picks the page's language: the ?lang= just chosen, else the
// cookie of an earlier choice, else the first of ru and en that
// Accept-Language names, else English.
func language(r *http.Request) oncall.Language {
	if l := oncall.Language(r.URL.Query().Get("lang")); l.Valid() {
		return l
	}
	if c, err := r.Cookie(langCookie); err == nil && oncall.Language(c.Value).Valid() {
		return oncall.Language(c.Value)
	}
	best, bestQ := oncall.English, -1.0
	for _, part := range strings.Split(r.Header.Get("Accept-Language"), ",") {
		tag, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		q := 1.0
		if v, ok := strings.CutPrefix(strings.TrimSpace(params), "q="); ok {
			if f, err := strconv.ParseFloat(v, 64); err == nil {
				q = f
			}
		}
		base, _, _ := strings.Cut(strings.ToLower(tag), "-")
		if l := oncall.Language(base); l.Valid() && q > bestQ {
			best, bestQ = l, q
		}
	}
	return best
}
