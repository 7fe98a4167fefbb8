package ivr

import (
	"slices"
	"time"

	"github.com/supportdesk/ivr/oncall"
)

// The prompt catalogue: every sentence the service says, in Russian and in
// English, in one file so that it can be reviewed (and recorded) in one
// place. A prompt is a short sentence or a fragment; the flow strings them
// together (a readback is "ticket", the digits one by one, a pause,
// "priority", the priority's name). Texts are what the recordings in
// sounds/ say; a TTS or the simulator can read them through Text.
//
// It has two tables: flowPrompts, what the call flow says, and
// pageCallPrompts, what the page calls the pager places to engineers say
// (package pager strings those together; this package never plays them).

// PromptText is one entry of the catalogue.
type PromptText struct {
	Name string
	RU   string
	EN   string
}

// flowPrompts are what the call flow says to callers and engineer legs.
var flowPrompts = []PromptText{
	// Greetings, one per line; the flow plays the one of the line dialled.
	// Texts say what is spoken ("twenty-four seven", not "24/7", which a
	// speaker or a TTS reads as "twenty four slash seven").
	{"greeting_moscow",
		"Здравствуйте! Вы позвонили в круглосуточную техническую поддержку, московская линия.",
		"Hello, you have reached twenty-four seven technical support, Moscow line."},
	{"greeting_washington",
		"Здравствуйте! Вы позвонили в круглосуточную техническую поддержку, вашингтонская линия.",
		"Hello, you have reached twenty-four seven technical support, Washington line."},
	// The offer of the other language is played in that language: the
	// Russian text offers Russian, the English text offers English.
	{"language_offer",
		"Чтобы продолжить на русском языке, нажмите 9.",
		"For English, press 9."},

	// Ticket entry. "No ticket" is star then pound: Twilio's <Gather> ends
	// on one key only (pound), so a star alone waits out the timeout. A
	// ticket id keyed during the greeting is taken as well.
	{"ticket_enter",
		"Введите номер вашей заявки и нажмите решётку. Если заявки нет, нажмите звёздочку, затем решётку.",
		"Please enter your ticket number, followed by the pound sign. If you have no ticket, press star, then the pound sign."},
	{"ticket_invalid",
		"Номер заявки введён неверно.",
		"That is not a valid ticket number."},
	{"ticket_unknown",
		"Заявка с таким номером не найдена.",
		"We could not find a ticket with that number."},
	{"ticket_retry",
		"Пожалуйста, введите номер заявки ещё раз и нажмите решётку. Если заявки нет, нажмите звёздочку, затем решётку.",
		"Please enter the ticket number again, followed by the pound sign. If you have no ticket, press star, then the pound sign."},
	// Silence at a menu: the caller did nothing wrong; the menu is asked
	// again (it counts as a try all the same, so that a call left alone
	// moves on).
	{"nothing_heard", "Мы ничего не услышали.", "We did not hear anything."},
	{"ticket_new",
		"Давайте откроем для вас новую заявку.",
		"We will open a new ticket for you."},
	// The ticket system did not answer: the caller keeps the number keyed,
	// unverified, and is put through at once.
	{"ticket_unverified",
		"Система заявок сейчас не отвечает, поэтому продолжим с введённым вами номером заявки.",
		"Our ticket system is not responding right now, so we will continue with the ticket number you entered."},
	// A closed ticket: a new one is opened (ticket_new, the priority menu).
	{"ticket_closed",
		"Эта заявка уже закрыта.",
		"That ticket is already closed."},
	// Readback: word_ticket, the digits, pause, word_priority, the
	// priority's name. A new ticket: ticket_opened, the digits, pause.
	{"word_ticket", "Заявка номер", "Ticket"},
	{"word_priority", "приоритет", "priority"},
	{"ticket_opened",
		"Мы открыли для вас заявку номер",
		"Your new ticket number is"},
	// pause is a short silence after a number, which the digits (tightly
	// trimmed) do not leave. espeak-ng says nothing for "…", so the file is
	// the 0.25 s of padding every prompt gets; with its neighbours' padding
	// the gap is 0.5 s, twice the usual one. A speaker records silence.
	{PromptPause, "…", "…"},

	// Priority menu.
	{"priority_menu",
		"Выберите приоритет обращения. Критический — нажмите 1. Срочный — нажмите 2. Обычный — нажмите 3. Низкий — нажмите 4.",
		"Please choose the priority of your request. For critical, press 1. For urgent, press 2. For normal, press 3. For low, press 4."},
	{"priority_invalid",
		"Извините, такого варианта нет.",
		"Sorry, that is not one of the options."},
	// The priority chosen (or normal, after three tries), said back.
	{"priority_set_critical",
		"Мы зарегистрируем ваше обращение с критическим приоритетом.",
		"We will register your request with critical priority."},
	{"priority_set_urgent",
		"Мы зарегистрируем ваше обращение со срочным приоритетом.",
		"We will register your request with urgent priority."},
	{"priority_set_normal",
		"Мы зарегистрируем ваше обращение с обычным приоритетом.",
		"We will register your request with normal priority."},
	{"priority_set_low",
		"Мы зарегистрируем ваше обращение с низким приоритетом.",
		"We will register your request with low priority."},
	{"priority_critical", "критический", "critical"},
	{"priority_urgent", "срочный", "urgent"},
	{"priority_normal", "обычный", "normal"},
	{"priority_low", "низкий", "low"},

	// Routing: what the caller hears on hold. hold_offer_message follows
	// searching and hold_progress: holdKey (1) takes the caller to
	// voicemail instead.
	{"searching",
		"Пожалуйста, оставайтесь на линии, мы соединяем вас с инженером.",
		"Please stay on the line while we connect you to an engineer."},
	{"hold_progress",
		"Мы всё ещё пытаемся связаться с инженером. Пожалуйста, оставайтесь на линии.",
		"We are still trying to reach an engineer. Please stay on the line."},
	{"hold_offer_message",
		"Чтобы не ждать, а оставить сообщение, нажмите 1 в любой момент.",
		"To leave a message instead of waiting, press 1 at any time."},
	{"connecting",
		"Соединяем вас с инженером.",
		"Connecting you to an engineer now."},

	// Voicemail.
	{"nobody_available",
		"К сожалению, сейчас ни один инженер не может ответить на ваш звонок.",
		"Unfortunately, no engineer can take your call right now."},
	{"leave_message",
		"Пожалуйста, оставьте сообщение после сигнала. Когда закончите, нажмите решётку или положите трубку.",
		"Please leave your message after the tone. When you have finished, press the pound sign or hang up."},
	// The Fallback URL: the service failed to route the call.
	{"technical_difficulties",
		"Приносим извинения: у нас технические неполадки, и мы не можем сейчас соединить вас с инженером.",
		"We are sorry: we are having technical difficulties and cannot connect you to an engineer right now."},
	{"message_recorded",
		"Спасибо, ваше сообщение записано.",
		"Thank you, your message has been recorded."},
	// "We will respond within" + one of the response times.
	{"respond_within", "Мы ответим вам в течение", "We will respond within"},
	{"response_1h", "одного часа.", "one hour."},
	{"response_2h", "двух часов.", "two hours."},
	{"response_8h", "восьми часов.", "eight hours."},
	{"response_24h", "двадцати четырёх часов.", "twenty-four hours."},
	{"goodbye",
		"Спасибо за звонок. До свидания.",
		"Thank you for calling. Goodbye."},

	// Engineer screening: the line's screening sentence (screen_ and the
	// line's Spoken prompt), the ticket readback, the caller's language,
	// screen_accept. A sentence per line, so that both languages read
	// naturally («московская линия», "the Moscow line").
	{"screen_line_moscow", "Звонок в поддержку, московская линия.", "Support call from the Moscow line."},
	{"screen_line_washington", "Звонок в поддержку, вашингтонская линия.", "Support call from the Washington line."},
	// A line's name, as the page calls say it (page_line, then this).
	{"line_moscow", "Москва.", "Moscow."},
	{"line_washington", "Вашингтон.", "Washington."},
	{"caller_speaks_ru", "Клиент говорит по-русски.", "The caller speaks Russian."},
	{"caller_speaks_en", "Клиент говорит по-английски.", "The caller speaks English."},
	{"screen_accept",
		"Нажмите 1, чтобы принять звонок.",
		"Press 1 to accept the call."},
	{"screen_connecting",
		"Соединяем вас с клиентом.",
		"Connecting you to the caller."},
	{"screen_no_accept",
		"Звонок будет передан другому инженеру. До свидания.",
		"The call will be offered to another engineer. Goodbye."},
	{"screen_caller_gone",
		"Клиент положил трубку. Спасибо.",
		"The caller has hung up. Thank you."},
	{"screen_withdrawn",
		"Этот звонок больше не ожидает ответа. Спасибо.",
		"This call is no longer waiting for you. Thank you."},
	// An engineer leg's TwiML failed at Twilio (the leg's Fallback URL).
	{"screen_technical_problem",
		"Извините, из-за технической неполадки звонок будет передан другому инженеру. До свидания.",
		"Sorry, a technical problem has interrupted this call. It will be offered to another engineer. Goodbye."},

	// Digits, spoken one by one.
	{"digit_0", "ноль", "zero"},
	{"digit_1", "один", "one"},
	{"digit_2", "два", "two"},
	{"digit_3", "три", "three"},
	{"digit_4", "четыре", "four"},
	{"digit_5", "пять", "five"},
	{"digit_6", "шесть", "six"},
	{"digit_7", "семь", "seven"},
	{"digit_8", "восемь", "eight"},
	{"digit_9", "девять", "nine"},
}

// pageCallPrompts are what a page call says to the engineer paged, in the
// engineer's first language. Package pager (pager/voice.go) strings them
// together: page_intro, page_overdue when the deadline has passed,
// word_priority and the priority's name, the ticket readback (word_ticket
// and the digits), page_line and the line's name, what raised the page
// followed by how long ago ("A client left a voicemail" "twenty" "one"
// "minutes" "ago."), then page_press_ack.
var pageCallPrompts = []PromptText{
	// Page calls to engineers.
	{"page_intro",
		"Вас вызывает дежурная служба поддержки.",
		"This is the support pager."},
	{"page_overdue",
		"Вызов просрочен: гарантированное время ответа истекло.",
		"This page is overdue: the guaranteed response time has passed."},
	// page_line, then the line's own prompt: "Line" "Moscow.".
	{"page_line", "Линия", "Line"},
	// What raised the page: the start of a sentence that how long ago
	// ends ("… twenty minutes ago.", "… just now.").
	{"page_from_voicemail",
		"Клиент оставил голосовое сообщение",
		"A client left a voicemail"},
	{"page_from_missed_call",
		"Никто не ответил на звонок клиента",
		"Nobody answered a client's call"},
	{"page_from_ticket",
		"Вас вызвала система заявок",
		"The ticket system paged you"},
	{"page_from_team",
		"Вас вызвала команда поддержки",
		"The support team paged you"},
	{"page_press_ack",
		"Нажмите 1, чтобы принять вызов.",
		"Press 1 to acknowledge."},
	{"page_acked",
		"Спасибо, вы приняли вызов. До свидания.",
		"Thank you, you have acknowledged the page. Goodbye."},
	{"page_taken",
		"Этот вызов уже принял другой инженер. До свидания.",
		"This page has already been acknowledged by another engineer. Goodbye."},
	// page_closed is true of any page no longer open; page_taken says more
	// when the page is known to be another engineer's.
	{"page_closed",
		"Этот вызов уже принят или закрыт. До свидания.",
		"This page has already been acknowledged or closed. Goodbye."},
	{"page_no_key",
		"Мы отправим вам текстовое сообщение. До свидания.",
		"We will send you a text message. Goodbye."},
	// After 1, on a page raised by a client's call: page_acked_more, then
	// the menu (press 2, press 3) until the engineer is done.
	{"page_acked_more",
		"Спасибо, вы приняли вызов.",
		"Thank you, you have acknowledged the page."},
	{"page_press_listen",
		"Нажмите 2, чтобы прослушать сообщение.",
		"Press 2 to hear the message."},
	{"page_press_callback",
		"Нажмите 3, чтобы перезвонить клиенту.",
		"Press 3 to call the client back."},
	// page_message, then the client's own recording.
	{"page_message", "Сообщение клиента:", "The client's message:"},
	{"page_no_recording",
		"Запись сообщения больше недоступна.",
		"The recording of the message is no longer available."},
	{"page_calling_client", "Соединяем вас с клиентом.", "Connecting you to the client."},
	{"page_client_no_answer", "Клиент не ответил.", "The client did not answer."},
	{"page_call_ended",
		"Разговор с клиентом окончен. До свидания.",
		"The call with the client has ended. Goodbye."},
	{"page_goodbye", "До свидания.", "Goodbye."},
	// A call that carries the code confirming an engineer's number
	// (package verify): page_intro, code_intro and the digits, code_again
	// and the digits, page_goodbye.
	{"code_intro", "Ваш код для подтверждения номера:", "Your code to confirm this number is"},
	{"code_again", "Повторяю:", "Once more:"},
	// An engineer calling the paging number: page_intro, the count of
	// their open pages ("You have" "two" "open pages."), page_newest when
	// there are several, and the newest page as a page call says it.
	{"page_you_have", "У вас", "You have"},
	{"page_open_one", "открытый вызов.", "open page."},
	{"page_open_few", "открытых вызова.", "open pages."},
	{"page_open_many", "открытых вызовов.", "open pages."},
	{"page_newest", "Последний вызов:", "The newest page:"},
	{"page_none_open",
		"У вас нет открытых вызовов. До свидания.",
		"You have no open pages. Goodbye."},
	{"page_not_engineer",
		"Этот номер принимает звонки только от дежурных инженеров. До свидания.",
		"This number takes calls from the support team's engineers only. Goodbye."},

	// How long ago: a number, the unit in the form the number takes, "ago".
	// Russian has three forms (1, 21 минуту; 2–4, 22–24 минуты; 5–20, 25–30
	// минут); English two, so its few and many forms say the same.
	{"ago_just_now", "только что.", "just now."},
	{"word_ago", "назад.", "ago."},
	{"ago_over_4_days", "больше четырёх дней назад.", "more than four days ago."},
	{"unit_minute_one", "минуту", "minute"},
	{"unit_minute_few", "минуты", "minutes"},
	{"unit_minute_many", "минут", "minutes"},
	{"unit_hour_one", "час", "hour"},
	{"unit_hour_few", "часа", "hours"},
	{"unit_hour_many", "часов", "hours"},

	// Numbers 1–99 as words: num_1 … num_19, the tens num_20 … num_90, and
	// a ten followed by a unit for the rest ("twenty" "three"). Short and
	// level like the digits, since they are strung together. Russian
	// counts feminine nouns (минута) with одну, две: num_1f, num_2f, whose
	// English files say the same as num_1, num_2.
	{"num_1", "один", "one"},
	{"num_1f", "одну", "one"},
	{"num_2", "два", "two"},
	{"num_2f", "две", "two"},
	{"num_3", "три", "three"},
	{"num_4", "четыре", "four"},
	{"num_5", "пять", "five"},
	{"num_6", "шесть", "six"},
	{"num_7", "семь", "seven"},
	{"num_8", "восемь", "eight"},
	{"num_9", "девять", "nine"},
	{"num_10", "десять", "ten"},
	{"num_11", "одиннадцать", "eleven"},
	{"num_12", "двенадцать", "twelve"},
	{"num_13", "тринадцать", "thirteen"},
	{"num_14", "четырнадцать", "fourteen"},
	{"num_15", "пятнадцать", "fifteen"},
	{"num_16", "шестнадцать", "sixteen"},
	{"num_17", "семнадцать", "seventeen"},
	{"num_18", "восемнадцать", "eighteen"},
	{"num_19", "девятнадцать", "nineteen"},
	{"num_20", "двадцать", "twenty"},
	{"num_30", "тридцать", "thirty"},
	{"num_40", "сорок", "forty"},
	{"num_50", "пятьдесят", "fifty"},
	{"num_60", "шестьдесят", "sixty"},
	{"num_70", "семьдесят", "seventy"},
	{"num_80", "восемьдесят", "eighty"},
	{"num_90", "девяносто", "ninety"},
}

var catalogue = slices.Concat(flowPrompts, pageCallPrompts)

// PromptPause names a short silence the flow puts after a number read
// back ("Ticket 1 2 3, priority critical"). Drivers play its audio like
// any other prompt's; a display of the text may show it as a comma.
const PromptPause = "pause"

// Prompt names the flow uses besides the digits, the priority names and the
// lines' own prompts.
const (
	pLanguageOffer    = "language_offer"
	pTicketEnter      = "ticket_enter"
	pTicketInvalid    = "ticket_invalid"
	pTicketUnknown    = "ticket_unknown"
	pTicketRetry      = "ticket_retry"
	pTicketNew        = "ticket_new"
	pNothingHeard     = "nothing_heard"
	pTicketUnverified = "ticket_unverified"
	pTicketClosed     = "ticket_closed"
	pWordTicket       = "word_ticket"
	pWordPriority     = "word_priority"
	pTicketOpened     = "ticket_opened"
	pPriorityMenu     = "priority_menu"
	pPriorityInvalid  = "priority_invalid"
	pSearching        = "searching"
	pHoldProgress     = "hold_progress"
	pHoldOffer        = "hold_offer_message"
	pConnecting       = "connecting"
	pNobodyAvailable  = "nobody_available"
	pLeaveMessage     = "leave_message"
	pMessageRecorded  = "message_recorded"
	pRespondWithin    = "respond_within"
	pGoodbye          = "goodbye"
	pScreenAccept     = "screen_accept"
	pScreenConnecting = "screen_connecting"
	pScreenNoAccept   = "screen_no_accept"
	pScreenCallerGone = "screen_caller_gone"
	pScreenWithdrawn  = "screen_withdrawn"
	pScreenTechnical  = "screen_technical_problem"
)

var catalogueIndex = func() map[string]PromptText {
	m := make(map[string]PromptText, len(catalogue))
	for _, p := range catalogue {
		m[p.Name] = p
	}
	return m
}()

// LegFailedPrompts is what an engineer hears in language l when their
// leg's call fails at the provider (a driver's fallback for the leg): a
// technical problem interrupted it, and another engineer gets it. The
// driver reports the leg ended as Failed, and the flow rings the next.
func LegFailedPrompts(l oncall.Language) []Prompt { return promptsIn(l, pScreenTechnical) }

const pTechnicalDifficulties = "technical_difficulties"

// FallbackPrompts is what a caller hears in language l when the service
// failed to route their call (a driver's fallback for the caller's call):
// honestly, that there are technical difficulties, then the request for a
// message, which the driver records and pages about.
func FallbackPrompts(l oncall.Language) []Prompt {
	return promptsIn(l, pTechnicalDifficulties, pLeaveMessage)
}

// Catalogue returns every prompt with its texts, in the catalogue's order
// (for recording the audio and for review).
func Catalogue() []PromptText {
	return append([]PromptText(nil), catalogue...)
}

// Text returns what p says in its language, or "" if the catalogue has no
// such prompt or language.
func Text(p Prompt) string {
	e, ok := catalogueIndex[p.Name]
	if !ok {
		return ""
	}
	switch p.Lang {
	case oncall.Russian:
		return e.RU
	case oncall.English:
		return e.EN
	}
	return ""
}

func hasPrompt(name string) bool {
	_, ok := catalogueIndex[name]
	return ok
}

// promptsIn returns the named prompts in language l.
func promptsIn(l oncall.Language, names ...string) []Prompt {
	ps := make([]Prompt, len(names))
	for i, n := range names {
		ps[i] = Prompt{Name: n, Lang: l}
	}
	return ps
}

// digitPrompts speaks the digits of s one by one, skipping anything else
// (a ticket id such as "T-1042" is read as "1 0 4 2").
func digitPrompts(l oncall.Language, s string) []Prompt {
	var ps []Prompt
	for _, r := range s {
		if r >= '0' && r <= '9' {
			ps = append(ps, Prompt{Name: "digit_" + string(r), Lang: l})
		}
	}
	return ps
}

// numberPrompts reads a number back: its digits, then a pause (nothing
// when s has no digits).
func numberPrompts(l oncall.Language, s string) []Prompt {
	ps := digitPrompts(l, s)
	if len(ps) == 0 {
		return nil
	}
	return append(ps, Prompt{Name: PromptPause, Lang: l})
}

func priorityPrompt(l oncall.Language, p oncall.Priority) Prompt {
	return Prompt{Name: "priority_" + string(p), Lang: l}
}

// prioritySetPrompt says that the request is registered with priority p.
func prioritySetPrompt(l oncall.Language, p oncall.Priority) Prompt {
	return Prompt{Name: "priority_set_" + string(p), Lang: l}
}

// screenLinePrompt is the first sentence of the screening of a call to
// line l: "screen_" and the line's Spoken prompt ("screen_line_moscow").
func screenLinePrompt(l Line) string { return "screen_" + l.Spoken }

// responsePrompt names the guaranteed response time of p.
func responsePrompt(l oncall.Language, p oncall.Priority) Prompt {
	name := "response_" + map[time.Duration]string{
		time.Hour: "1h", 2 * time.Hour: "2h", 8 * time.Hour: "8h", 24 * time.Hour: "24h",
	}[p.ResponseTime()]
	if !hasPrompt(name) {
		name = "response_8h" // only reachable with an invalid priority, which the flow never keeps
	}
	return Prompt{Name: name, Lang: l}
}

func otherLanguage(l oncall.Language) oncall.Language {
	if l == oncall.Russian {
		return oncall.English
	}
	return oncall.Russian
}
