"""Smart approval (智审慧办): service items, processes, forms filled with provenance, the
pre-check of materials, cases, e-licences, ratings and metrics. Later bureaus (the HR bureau's
one-thing bundles, work injury, enterprise direct link) run on the same case machinery.

The flow

1. **Items as data** (``items``, ``itemsearch``): ``content/<city>/service-items.yaml`` gives
   each item its domain and scenario, conditions, materials (and the e-certificate type that
   waives each: 免提交), a form (a JSON Schema file under ``content/<city>/approval/forms/`` with
   ``x-fill`` / ``x-history`` / layout keywords), statutory and promised limits in working days,
   fee, process, countersigning department, the certificate it issues and the legal reference.
   ``load_catalogue`` checks everything at start (a broken file stops the server, naming the
   item and field); search takes Chinese, abbreviations and pinyin.
2. **Applying** (``prefill``, ``lookups``, ``drafts``): the form is filled from the data core
   for the applicant — identity fields from the population or enterprise register, shared
   fields through the declared mappings, values from the applicant's earlier cases offered as
   choices — each value with its source (table, version, key, time); the read is one ledger
   entry the person sees at 谁用了我的数据. Materials an e-certificate replaces are waived; another
   holder's certificate needs their certificate-use authorisation (用证授权). Applying for
   someone else needs a mandate (委托授权) covering the item; a refusal is recorded and answered
   403. ``lookups`` keeps a per-table-version key index so a form is filled in milliseconds on
   a million residents.
3. **The pre-check** (``precheck/``): an upload is told by its bytes (PNG, JPEG, PDF; bounded
   size, pixels, pages), read by offline OCR (rapidocr; PDFs rendered with pdfium), its fields
   taken by their printed labels per material kind, and checked: the kind asked for, the
   fields present, identifier check characters, dates, agreement with the form and with the
   registers. The applicant sees every issue before submitting; ``shuhui approval precheck``
   runs the same check (``cli``). ``samples`` makes test documents' contents and
   ``sample_pages`` draws them in WenQuanYi Zen Hei (clean, degraded, wrong); ``hall_samples``
   makes a person's own sample documents from the registers for trying the demo.
4. **Cases** (``cases`` with ``drafts``, ``access``, ``queues``, ``journal``, ``formcheck``):
   draft → submitted → accepted (or one correction request listing everything at once,
   一次性告知, which pauses the clock) → review (countersign) → approved / rejected with
   reason → issued. A submission is checked whole against the JSON Schema and the materials:
   every fault named, nothing changed. The process is BPMN 2.0 under
   ``content/<city>/approval/processes/`` run by SpiffWorkflow (``process``); its open user
   tasks are the officers' queues, and closing one is a conditional UPDATE, so of two
   concurrent decisions exactly one stands (409 for the other). Time limits count working
   days by the Chinese calendar with its adjusted working days (``calendar``, the `holidays`
   package). Every step is a case event and a ledger entry.
5. **E-licences** (``licences``, ``tasks``): an approval of an item that issues a certificate
   makes a one-page PDF sealed with the department's e-seal (verifiable at ``/seals/verify``)
   and writes it to the data core's ``e_certificates`` after the transaction commits, so the
   next application that needs it waives it; ``tasks.sync_licences`` makes up a write a crash
   interrupted.
6. **Ratings and metrics** (``ratings``, ``metrics``): 好差评 on finished cases, a bad rating
   opening a follow-up for the department; fields and materials spared, zero-submission items,
   first-pass rates with and without the pre-check, handling time against the limits, the
   cases by channel and the online share (网办率), by item, department and domain.

Every case records the channel it came through (``Case.channel``): ``online`` (the applicant on
the web or the API), ``agent`` (under a mandate), ``link`` (the enterprise direct link, which
names it when it files) and ``counter`` (a service-hall window). At the window (``counter``) an
officer of a department that accepts the item files the application for the applicant present,
their identity document checked in person and a purpose stated (an
``approval.case.filed_at_counter`` entry about the applicant).

``service`` puts these in the order a person meets them (apply, save, upload, send, decide,
issue) and makes the views the pages and the API show; ``routes`` (the pre-filled form of an
item) and ``case_routes`` (cases, tasks, the window's filing, licences, the pre-check, metrics)
are the API; ``pages`` (the service hall), ``officer_pages`` (the officers' workbench, the
window's filing and the case page) and
``admin_pages`` (item administration, metrics) the pages; ``diagram`` draws a process from its
BPMN layout with the current step; ``workbench`` and ``desk_workbench`` put the to-dos on each
role's workbench (cases to correct, steps waiting, bad ratings to answer).

Applying is read first, written after: a form's reads (``prefill.read_form``) and an upload's
OCR (``service.read_upload``) take no write lock, so on SQLite one slow request does not hold
up the others' writes.
"""
