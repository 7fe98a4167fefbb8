// Package rttest gives tests a throw-away Request Tracker 5 (Debian's RT
// 5.0.3: request-tracker5, rt5-db-sqlite, rt5-standalone): one server per
// test binary, started on first use by Start, on a SQLite site in a
// temporary directory, stopped by Main. It is for tests only and owns
// nothing else. Tests that need RT skip without those packages, or fail if
// IVR_TEST_RT=require (as CI sets it).
//
// # The test site
//
// Queues L1, L2 and L3 (ids 3, 4 and 5; 1 is General, 2 RT's approvals
// queue), the four-level priority scale the README recommends
// (%PriorityAsString Default => Low 0, Normal 30, Urgent 70, Critical 90),
// time zone UTC, mail written to a throw-away file, bcrypt cost 4 (see
// "Speed" below). Two users:
//
//   - root (RootUser, RootPassword): RT's superuser, the "person" of the
//     tests. The helpers (CreateTicket, SetTicket, Comment, Merge, Resolve,
//     CreateUser, Do) act as root with basic auth.
//   - ivr (APIUser; RT.Token is its auth token): the service's own user,
//     privileged, time zone UTC, with the global rights SeeQueue,
//     ShowTicket, CreateTicket, CommentOnTicket, ModifyTicket,
//     ShowTicketComments, SeeCustomField and ModifyCustomField. Not
//     SuperUser and not AdminUsers, as a production API user would be; what
//     it changes shows in RT's history with Creator "ivr", what root changes
//     with Creator "root".
//
// The site config also sets $UserSummaryExtraInfo to "RealName,
// EmailAddress, Name, MobilePhone, WorkPhone, HomePhone": that is what lets
// the API user find a user by phone (below). A production RT needs the same
// line.
//
// The server is shared by the tests of a binary: each test makes its own
// tickets and users (RT.Unique names, RT.Phone numbers) and looks only at
// those; a ticket search sees every test's tickets, so filter by subject or
// id. A test that calls RT.Stop must not run in parallel with others.
//
// # What RT 5.0.3's REST 2 answers (observed on this site)
//
// Everything below is what the real server answered; rttest_test.go checks
// the parts the service relies on. Key order in RT's JSON varies from answer
// to answer (Perl hashes); every URL is absolute ("_url":
// "http://127.0.0.1:PORT/REST/2.0/ticket/7"). All dates in answers are UTC,
// ISO 8601 with Z, one-second resolution; "1970-01-01T00:00:00Z" means not
// set. A reference to another record is {"id": ..., "type": ..., "_url":
// ...} with id a string: the number of a ticket, queue or transaction, but
// the Name of a user ("root", "ivr", "Nobody").
//
// Authentication: "Authorization: token <token>" or basic auth; a bad one
// answers 401 {"message":"Unauthorized"}.
//
// # GET /ticket/{id}
//
// 200 (404 {"message":"Not Found"} for no such ticket). Priority and the
// other numbers are strings; the ticket's own id is a JSON number; Queue is
// a reference by queue id (GET /queue/{id or name} gives its Name); the
// priority label (PriorityAsString) is not in REST 2 at all, only in the web
// UI. Trimmed of _hyperlinks (self, history, correspond, comment, and one
// "lifecycle" entry per status transition the user may make):
//
//	{
//	   "id" : 1,
//	   "Type" : "ticket",
//	   "Subject" : "hello",
//	   "Status" : "new",
//	   "Priority" : "90",
//	   "InitialPriority" : "0",
//	   "FinalPriority" : "0",
//	   "Queue" : { "type" : "queue", "id" : "4", "_url" : "http://127.0.0.1:PORT/REST/2.0/queue/4" },
//	   "EffectiveId" : { "type" : "ticket", "id" : "1", "_url" : "http://127.0.0.1:PORT/REST/2.0/ticket/1" },
//	   "Owner" : { "type" : "user", "id" : "Nobody", "_url" : ".../user/Nobody" },
//	   "Creator" : { "type" : "user", "id" : "root", "_url" : ".../user/root" },
//	   "LastUpdatedBy" : { "type" : "user", "id" : "root", "_url" : ".../user/root" },
//	   "Requestor" : [],
//	   "Cc" : [],
//	   "AdminCc" : [],
//	   "CustomFields" : [],
//	   "Created" : "2026-12-01T13:19:10Z",
//	   "LastUpdated" : "2026-12-01T13:19:10Z",
//	   "Starts" : "1970-01-01T00:00:00Z",
//	   "Started" : "1970-01-01T00:00:00Z",
//	   "Due" : "1970-01-01T00:00:00Z",
//	   "Resolved" : "1970-01-01T00:00:00Z",
//	   "TimeEstimated" : "0", "TimeWorked" : "0", "TimeLeft" : "0",
//	   "_hyperlinks" : [ { "ref" : "self", "type" : "ticket", "id" : 1, "_url" : ".../ticket/1" }, ... ]
//	}
//
// InitialPriority stays "0" when a ticket is created with a Priority: the
// priority a ticket was opened with is its Priority if no "Set Priority"
// transaction followed, else the first such transaction's OldValue.
//
// A merged ticket: GET /ticket/{merged id} answers 200 with the record of
// the ticket it was merged into, "id" and "EffectiveId" both that ticket's
// (no redirect). So compare "id" with the id asked for, or read
// EffectiveId.id.
//
// # POST /ticket (create)
//
// Body {"Queue": "L1", "Subject": "...", "Priority": 30, "Requestor": "alice"}:
// 201, Location: /REST/2.0/ticket/8,
//
//	{"id":"8","type":"ticket","_url":"http://127.0.0.1:PORT/REST/2.0/ticket/8"}
//
// (id a string here). A queue that does not exist, or one the user may not
// create in: 403 {"message":"No permission to create tickets in the queue
// 'NoQ'"}. Requestor omitted: the ticket has no requestor ("Requestor": [],
// not the creating user). Requestor a user's Name: that user. Requestor a
// Name no user has: the ticket is still created, with no requestor, and RT
// only logs "Couldn't load user from value nosuchuser". Send Priority as a
// number: a label ("Urgent") is stored as the text itself and reads back as
// "Priority": "Urgent" (a PUT, by contrast, maps a label to its number).
//
// # PUT /ticket/{id} (update)
//
// Always 200 with an array of messages, one per field changed or refused;
// [] when nothing changed. Nothing says which succeeded: a change reads
// "Ticket N: <Field> changed from <old> to <new>", a refusal is any other
// text. Observed:
//
//	{"Queue":"L3","Priority":70}  -> ["Ticket 1: Priority changed from 'Critical' to 'Urgent'","Ticket 1: Queue changed from L2 to L3"]
//	{"Queue":"NoSuch"}            -> ["Ticket 1: Queue NoSuch does not exist"]
//	{"Status":"bogus"}            -> ["Ticket 1: Status 'bogus' isn't a valid status for this ticket."]
//	{"Status":"open"}             -> ["Ticket 1: Status changed from 'new' to 'open'"]
//	{"Priority":70} when it is 70 -> []
//	{"Foo":1}                     -> []
//	{"MergeInto":1}               -> ["Merge Successful"]
//	{"MergeInto":999}             -> ["New ticket doesn't exist"]
//
// DELETE /ticket/{id}: 204, status becomes "deleted".
//
// # POST /ticket/{id}/comment
//
// Send JSON: {"Content": "call log ü", "ContentType": "text/plain"}. 201,
// Location: /REST/2.0/transaction/102, body ["Comments added"].
// ContentType is required: without it 400 {"message":"ContentType is a
// required field for application/json"}. A text/plain body also gives 201,
// but RT double-encodes non-ASCII text (ü stored as Ã¼) with or without
// "; charset=utf-8", so do not use it. A ticket that does not exist: 400
// {"message":"Message could not be recorded"}, not 404. To read a comment's
// text back: GET /ticket/{id}/attachments?fields=Content,ContentType,TransactionId
// (Content is the text itself there; GET /attachment/{id} gives it in
// base64).
//
// # GET /tickets?query=<TicketSQL>&fields=...&per_page=100&page=1
//
// 200:
//
//	{
//	   "total" : 2, "count" : 1, "page" : 1, "pages" : 2, "per_page" : 1,
//	   "next_page" : "http://127.0.0.1:PORT/REST/2.0/tickets?query=...&per_page=1&page=2",
//	   "items" : [
//	      {
//	         "type" : "ticket", "id" : "1", "_url" : ".../ticket/1",
//	         "Subject" : "hello", "Status" : "open", "Priority" : "70",
//	         "Queue" : { "type" : "queue", "id" : "5", "_url" : ".../queue/5" },
//	         "EffectiveId" : "1",
//	         "LastUpdated" : "2026-12-01T13:19:52Z"
//	      }
//	   ]
//	}
//
// Items carry only type, id and _url unless fields= names more; id is a
// string; Queue is still a reference but EffectiveId is a plain string here.
// next_page is absent on the last page (prev_page appears after the first).
// per_page above 100 is silently read as 100. When nothing matches:
// {"total":0,"count":0,"page":1,"pages":0.0,"per_page":20,"items":[]}:
// pages is the float 0.0, which encoding/json will not decode into an int.
// The order is by id unless orderby=LastUpdated&order=ASC (or DESC) says
// otherwise.
//
// Searches never return merged tickets (only the ticket they went into),
// nor deleted ones unless the query names a Status. Status =
// '__Active__' and Status = '__Inactive__' select by the ticket's lifecycle
// (inactive in the default lifecycle: resolved, rejected, deleted); there is
// no lifecycle endpoint in 5.0.3 (GET /lifecycle/default is 404), so that
// query, or a configured list of inactive statuses, is how to tell a closed
// ticket.
//
// Dates in TicketSQL: RT parses them with Time::ParseDate as the API user's
// local time, and
//
//   - '2026-12-01T10:00:00Z' is read as the date alone: LastUpdated >=
//     '2026-12-01T14:00:00Z' matches everything since 2026-12-01 00:00. Do
//     not write Z.
//   - '2026-12-01 10:00:00' (also '2026-12-01T10:00:00', '... UTC',
//     '...+00:00') is read to the second, in the API user's time zone,
//     ignoring any zone written: with a user in America/New_York, even
//     '2026-12-01 14:05:06 UTC' is taken as 19:05:06 UTC.
//
// So set the API user's time zone to UTC (the test site's ivr has it) and
// write 'YYYY-MM-DD HH:MM:SS' in UTC.
//
// # GET /ticket/{id}/history?fields=Type,Field,OldValue,NewValue,Created,Creator
//
// Same paging as a search; oldest first. Each item (ids are strings; Creator
// is the user's Name):
//
//	{"type":"transaction","id":"47","_url":".../transaction/47","Type":"Create","Field":"","OldValue":"","NewValue":"","Created":"2026-12-01T13:19:10Z","Creator":{"type":"user","id":"root","_url":".../user/root"}}
//	{"type":"transaction","id":"53",...,"Type":"Set","Field":"Priority","OldValue":"90","NewValue":"70",...}
//	{"type":"transaction","id":"54",...,"Type":"Set","Field":"Queue","OldValue":"4","NewValue":"5",...}   (queue ids)
//	{"type":"transaction","id":"55",...,"Type":"Status","Field":"Status","OldValue":"new","NewValue":"open",...}
//	{"type":"transaction","id":"56",...,"Type":"Comment","Field":"","OldValue":"","NewValue":"",...,"Creator":{"id":"ivr",...}}
//	{"type":"transaction","id":"68",...,"Type":"AddLink","Field":"MergedInto","NewValue":"fsck.com-rt://ivr-test/ticket/1",...}
//
// A create with a Priority makes one Create transaction, no Set Priority. A
// PUT of two fields makes one transaction each, same Created. Each item has
// both "Type" (the transaction's) and "type" ("transaction"): with
// encoding/json give "type" a field of its own, or its case-insensitive
// matching writes "transaction" into Type whenever "type" comes later in the
// object. After a merge, the history of the surviving ticket also holds the
// merged ticket's transactions (its Create included, and a MergedInto
// AddLink on each side): add ObjectId to fields= (the ticket a transaction
// belongs to, a string) to tell them apart. GET /transaction/{id} of a
// merged ticket's transaction answers 500 (an RT bug).
//
// # Users: POST /users (JSON search)
//
// Body [{"field":"MobilePhone","value":"+15550100001"}], or GET
// /users?query=<the same JSON>; fields=Name gives each item's Name (its id
// is the Name too). Answer paged as above. RT silently ignores a condition
// on a field the caller may not search, and then answers every user:
// privileged users without AdminUsers may search $UserSummaryExtraInfo's
// fields (stock: RealName, EmailAddress, Name: no phones, hence the line in
// the site config); users with AdminUsers (and SuperUser) only Name,
// EmailAddress, Organization, RealName, NickName, Lang, Gecos, City, Country,
// Timezone, SMIMECertificate, never a phone. Several conditions are ANDed
// whatever entry_aggregator says, so search each phone field on its own.
// Without AdminUsers the phone fields of the users found read back as "".
//
// # Speed
//
// RT checks the password or token of every REST 2 request with bcrypt: at
// RT's stock $BcryptCost of 12 every request, GET or PUT, token or basic
// auth, took about 215 ms on this machine; at the test site's 4, about 20
// to 30 ms.
// A production RT pays the 215 ms on each call the adapter makes.
package rttest
