// Bilingual strings (zh-CN / en) and locale-aware formatting (Intl). Times show in China local time.
const STRINGS = {
  brand: ["物信 Wuxin", "Wuxin 物信"],
  login: ["登录", "Log in"], logout: ["退出", "Log out"], username: ["用户名", "Username"], password: ["密码", "Password"],
  login_failed: ["登录失败", "Login failed"], language: ["English", "中文"],
  login_throttled: ["登录失败次数过多，请稍后再试", "Too many failed logins, try again later"],
  login_busy: ["登录繁忙，请稍后再试", "Login is busy, try again in a moment"],
  nav_portfolio: ["资产组合", "Portfolio"], nav_alarms: ["预警", "Alarms"], nav_loans: ["贷款", "Loans"],
  nav_pledges: ["押品", "Pledges"], nav_map: ["地图", "Map"], nav_index: ["行业指数", "Industry index"],
  nav_evidence: ["证据", "Evidence"], nav_quarantine: ["隔离区", "Quarantine"], nav_my: ["我的企业", "My company"],
  nav_devices: ["设备健康", "Device health"], nav_consents: ["数据授权", "Data sharing"],
  no_access: ["无权访问", "No access"], no_access_hint: ["您的角色或授权不允许查看此内容。", "Your role or the enterprise's consent does not allow this view."],
  not_found: ["未找到", "Not found"], failed: ["加载失败", "Could not load"], loading: ["加载中…", "Loading…"],
  waiting: ["即将上线", "Coming soon"],
  waiting_hint: ["该视图依赖的接口尚未上线（{what}）。上线后此处将自动显示。", "This view needs an API that has not landed yet ({what}). It will show here once it does."],
  enterprises: ["企业", "Enterprises"], devices: ["设备", "Devices"], online: ["在线", "online"], offline: ["离线", "offline"],
  unknown: ["未知", "unknown"], machines: ["机台", "Machines"], online_share: ["在线率", "Online share"],
  by_scenario: ["按场景的企业数", "Enterprises by scenario"], by_region: ["按地区的企业数", "Enterprises by region"],
  connectivity: ["连接状态", "Connectivity"], exposure: ["敞口（按场景与地区）", "Exposure by scenario and region"],
  risk_classes: ["风险等级", "Risk classes"], open_alarms: ["未结预警", "Open alarms"], trend: ["趋势", "Trend"],
  name: ["名称", "Name"], uscc: ["统一社会信用代码", "USCC"], industry: ["行业", "Industry"], region: ["地区", "Region"],
  sites: ["厂区/站点", "Sites"], site: ["站点", "Site"], no_site: ["未指定站点", "No site"], all_devices: ["全部设备", "All devices"],
  page_prev: ["上一页", "Previous"], page_next: ["下一页", "Next"], page_of: ["第 {p} / {n} 页，共 {total} 台", "Page {p} of {n}, {total} devices"],
  key: ["设备编号", "Device key"], type: ["类型", "Type"], source_mode: ["数据来源", "Source"],
  trust: ["可信度", "Trust"], last_seen: ["最后上报", "Last seen"], machine: ["机台", "Machine"],
  timeline: ["设备运行时间轴", "Equipment status timeline"], running: ["运行", "running"], stopped: ["停机", "stopped"],
  no_data: ["无数据", "no data"], days: ["天", "days"], run_hours_approx: ["运行时长≈", "Run hours ≈"],
  no_machines: ["该企业没有带运行阈值的机台设备。", "This enterprise has no machines with a run threshold."],
  indicators: ["经营指标", "Operating indicators"], peers: ["同业对标（行业指数）", "Peer standing (industry index)"],
  crosscheck: ["交叉验证", "Cross-verification"], check: ["核对项", "Check"], score: ["评分、原因与额度", "Score, reasons and limit"],
  report: ["信用报告", "Credit report"], alarms: ["预警", "Alarms"], loans: ["贷款", "Loans"], pledges: ["押品", "Pledges"],
  readings: ["读数", "Readings"], provenance: ["数据溯源", "Provenance"], property: ["属性", "Property"],
  value: ["数值", "Value"], device_time: ["设备时间", "Device time"], received: ["平台接收", "Received"],
  batch: ["批次", "Batch"], proof: ["账本证明", "Ledger proof"], show_proof: ["查看证明", "Show proof"],
  events: ["事件", "Events"], back: ["返回", "Back"], window: ["时间范围", "Window"], hours: ["小时", "hours"],
  consents: ["数据授权", "Data-sharing consents"], tenant: ["被授权方", "Recipient"], scope: ["范围", "Scope"],
  items: ["项目", "Items"], purpose: ["用途", "Purpose"], granted: ["授权时间", "Granted"], expires: ["到期", "Expires"],
  status: ["状态", "Status"], active: ["有效", "active"], revoked: ["已撤销", "revoked"], expired: ["已过期", "expired"],
  revoke: ["撤销", "Revoke"], narrow: ["收窄", "Narrow"], grant: ["授权", "Grant"], new_consent: ["新增授权", "New consent"],
  confirm_revoke: ["确定撤销该授权？被授权方将立即失去访问权限。", "Revoke this consent? The recipient loses access at once."],
  scope_all: ["全部设备", "all devices"], scope_scenarios: ["指定场景", "scenarios"], scope_devices: ["指定设备", "devices"],
  keep_items: ["保留的项目", "Items to keep"], earlier_expiry: ["提前到期日", "Earlier expiry"], save: ["保存", "Save"],
  cancel: ["取消", "Cancel"], done: ["已完成", "Done"], health: ["健康状况", "Health"], dashboard: ["生产看板", "Dashboard"],
  dash_manufacturing: ["生产看板", "Production dashboard"], dash_vehicles: ["车队看板", "Fleet dashboard"],
  dash_dairy: ["牧场看板", "Farm dashboard"], dash_energy: ["电站看板", "Plant dashboard"],
  dash_logistics: ["仓储看板", "Warehouse dashboard"], dash_construction: ["工地看板", "Site dashboard"],
  last_24h: ["最近24小时", "Last 24 hours"], sites_map: ["站点与车辆分布", "Sites and vehicles"], vehicles: ["车辆", "Vehicles"],
  quarantine: ["隔离数据", "Quarantined data"], reason: ["原因", "Reason"], message: ["说明", "Message"], channel: ["通道", "Channel"],
  replay: ["重放", "Replay"], discard: ["丢弃", "Discard"], none: ["暂无", "None"],
  evidence_hint: ["从任一指标值追溯到原始读数与账本证明：在企业页点击设备，查看读数及其批次的默克尔证明。", "Trace any figure down to its readings and ledger proof: open a device on an enterprise page, then a reading's batch proof."],
  ack_reason: ["确认原因", "Reason for acknowledging"], clear_reason: ["解除原因", "Reason for clearing"],
  ack_default: ["已联系企业核实", "Contacted the enterprise to check"], clear_default: ["已核实并处理", "Checked and resolved"], more_alarms: ["加载更多预警", "More alarms"],
  alarm_total: ["共 {n} 条预警符合条件", "{n} alarms match"], alarm_reading: ["读数与阈值", "Reading and threshold"],
  ack_selected: ["确认所选", "Acknowledge selected"], clear_selected: ["解除所选", "Clear selected"], select_all: ["全选", "Select all"],
  export_csv: ["导出 CSV", "Export CSV"], all: ["全部", "All"], opened_from: ["开始日期自", "Opened from"], opened_to: ["开始日期至", "Opened to"],
  apply_filters: ["筛选", "Filter"], reset_filters: ["重置", "Reset"],
  ack_dialog: ["确认 {n} 条预警", "Acknowledge {n} alarm(s)"], clear_dialog: ["解除 {n} 条预警", "Clear {n} alarm(s)"],
  bulk_result: ["{action}：成功 {done} 条，失败 {failed} 条", "{action}: {done} done, {failed} failed"],
  threshold_from: ["阈值来源", "How the threshold was set"], condition_since: ["条件持续自", "Condition since"],
  alarm_when: ["时间", "When"], alarm_what: ["操作", "What"], alarm_who: ["操作人", "Who"], alarm_platform: ["平台（规则）", "The platform (rule)"],
  ledger_leaf: ["账本序号", "Ledger entry"], evidence_bundle: ["下载证据包", "Download the evidence bundle"],
  alarm_what_fired: ["触发内容", "What fired"], alarm_history: ["状态与审计记录", "State history and audit trail"],
  alarm_evidence: ["账本证据", "Ledger evidence"],
  acknowledge: ["确认", "Acknowledge"], clear: ["解除", "Clear"], severity: ["级别", "Severity"], started: ["开始", "Started"],
  occurrences: ["次数", "Occurrences"], product: ["产品", "Product"], state: ["状态", "State"], risk_class: ["风险分类", "Risk class"],
  amount: ["金额", "Amount"], outstanding: ["余额", "Outstanding"], coverage: ["押品覆盖", "Coverage"],
  grade: ["等级", "Grade"], pd: ["违约概率", "PD"], score_pts: ["评分", "Score"], limit: ["建议额度", "Proposed limit"],
  approved: ["批准", "approved"], declined: ["拒绝", "declined"], product_code: ["产品", "Product"], model: ["模型", "Model"],
  decided: ["决策时间", "Decided"], reasons: ["主要原因", "Main reasons"], limit_steps: ["额度计算", "How the limit was reached"],
  no_decision: ["尚无授信决策。", "No credit decision yet."], decision_proof: ["决策账本证明", "Decision ledger proof"],
  open_html: ["打开 HTML 报告", "Open HTML report"], open_pdf: ["打开 PDF 报告", "Open PDF report"],
  report_hint: ["报告需登录授权，在本地以附件方式打开。", "The report needs your login; it opens as a local document."],
  cross_verified: ["已交叉验证", "cross-verified"], not_cross_verified: ["未通过交叉验证", "not cross-verified"],
  wf_request: ["申请授信决策", "Request a credit decision"], wf_product: ["产品", "Product"],
  wf_application: ["贷款申请", "Loan application"], wf_no_application: ["不关联申请", "no application"],
  wf_submit: ["提交决策", "Decide"], wf_standing: ["决策状态", "Standing"], wf_coverage: ["IoT 覆盖率", "IoT coverage"],
  wf_state_referred: ["待人工决定", "referred to a person"], wf_state_pending_approval: ["待双人复核", "awaiting four-eyes approval"],
  wf_state_approved: ["已批准", "approved"], wf_state_declined: ["已拒绝", "declined"],
  wf_threshold: ["双人复核阈值", "Four-eyes threshold"], wf_override: ["人工推翻", "Override"],
  wf_override_title: ["推翻决策（须风险经理复核）", "Override the decision (a risk manager approves)"],
  wf_outcome: ["决定", "Outcome"], wf_limit: ["额度（元）", "Limit (CNY)"], wf_reason: ["书面理由", "Written reason"],
  wf_reason_hint: ["至少 5 个字，说明为何与政策结果不同", "at least 5 characters: why you decide otherwise"],
  wf_cancel: ["取消", "Cancel"], wf_confirm: ["提交", "Submit"], wf_reviews: ["复核记录", "Reviews"],
  wf_pending: ["待双人复核", "Waiting for four eyes"], wf_none_pending: ["没有待复核事项。", "Nothing waits for review."],
  wf_approve: ["复核通过", "Approve"], wf_reject: ["驳回", "Reject"], wf_approve_title: ["复核通过", "Approve the review"],
  wf_reject_title: ["驳回（退回人工决定）", "Reject (back to a person)"], wf_requested_by: ["申请人", "Asked by"],
  wf_kind_override: ["人工推翻", "override"], wf_kind_limit: ["超阈值额度", "limit above the threshold"],
  wf_own_request: ["本人发起，须由另一位风险经理复核", "asked by you: another risk manager approves"],
  wf_loan_state: ["申请状态", "Application state"], nav_reviews: ["双人复核", "Four eyes"],
  decided_by: ["决定原因", "Decided by"], policy_checks: ["产品政策条件", "Product policy conditions"], condition_clear: ["未触发", "clear"],
  limit_proposed: ["建议额度（待人工审批）", "Proposed limit (for review)"],
  verification_verified: ["已由独立来源验证", "verified by an independent source"],
  verification_supported: ["仅企业共享设备佐证，未验证", "supported by enterprise-shared devices only, not verified"],
  verification_failed: ["交叉验证未通过", "cross-verification failed"],
  verification_undecided: ["证据不足，无法判定", "undecided: too little device evidence"],
  level_verified: ["已验证", "verified"], level_supported: ["仅佐证", "supported only"], level_not_verified: ["未验证", "not verified"],
  evidence_sources: ["证据来源", "Evidence sources"], check_level: ["验证程度", "Verification"], tolerance: ["容差", "Tolerance"], mode_unknown: ["来源未知", "unknown source"],
  period: ["期间", "Period"], reported: ["申报", "Reported"], evidenced: ["IoT 证据", "IoT evidence"], ratio: ["比值", "Ratio"],
  coverage_days: ["数据覆盖", "Coverage"], finding: ["结论", "Finding"], features: ["特征", "Features"],
  chk_consistent: ["一致", "consistent"], chk_inconsistent: ["不一致", "inconsistent"], chk_insufficient_evidence: ["证据不足", "insufficient evidence"],
  chk_overstated: ["高报", "overstated"], chk_understated: ["低报", "understated"],
  percentile: ["分位", "Percentile"], peers_n: ["同组企业", "peers"], median: ["中位数", "Median"], band: ["四分位区间 (P25–P75)", "Quartile band (P25–P75)"],
  this_enterprise: ["本企业", "This enterprise"], not_published: ["未发布", "not published"],
  peer_reason_fewer: ["同组企业少于5家，指数不发布", "fewer than 5 peers: the index is not published"],
  peer_reason_nodata: ["当日无完整数据", "no complete value that day"],
  click_point: ["点击图中任一点，追溯到设备、读数与账本证明。", "Click any point to trace it to its devices, readings and ledger proof."],
  figure: ["指标值", "Figure"], devices_behind: ["构成该值的设备", "Devices behind the figure"], points: ["读数条数", "Readings"],
  quality: ["质量", "Quality"], q_complete: ["完整", "complete"], q_partial: ["部分", "partial"], q_unknown: ["未知", "unknown"],
  open_readings: ["查看读数", "Readings"], readings_behind: ["计算所用读数", "Readings behind the value"],
  batches: ["入库批次", "Ingest batches"], verify: ["浏览器内验证", "Verified in your browser"],
  v_leaf: ["叶数据哈希与叶哈希一致", "leaf data hashes to the leaf hash"], v_path: ["包含路径推得根哈希", "inclusion path leads to the root hash"],
  v_head: ["根哈希与签名树头一致", "root hash equals the signed tree head"], v_commit: ["设备承诺在叶中", "device commitment is in the leaf"],
  v_unavailable: ["此浏览器环境无法计算 SHA-256（需 HTTPS）", "SHA-256 not available here (needs HTTPS)"],
  download_proof: ["下载证明 JSON（可用 wuxin ledger verify 离线验证）", "Download proof JSON (verify offline with wuxin ledger verify)"],
  leaf_index: ["叶序号", "Leaf index"], tree_size: ["树大小", "Tree size"], root_hash: ["根哈希", "Root hash"], signed_at: ["签名时间", "Signed"],
  public_key: ["签名公钥（Ed25519）", "Signing public key (Ed25519)"],
  evidence_pick: ["选择一个指标值", "Pick a figure"], go: ["查看", "Show"], day: ["日期", "Day"], indicator: ["指标", "Indicator"],
  latest_head: ["最新签名树头", "Latest signed tree head"],
  trend_indicators: ["关键指标（组合中位数）", "Key indicators (portfolio median)"], trend_alarms: ["预警（新增 / 未结）", "Alarms (raised / open)"],
  trend_scale: ["相对窗口均值 (=100)", "vs window mean (=100)"], raised: ["新增", "raised"], open: ["未结", "open"], hidden_enterprises: ["{n} 家企业因授权范围未计入", "{n} enterprises left out (consent covers only part of their devices)"],
  coverage_ratio: ["覆盖率", "Coverage ratio"], margin_line: ["追加保证金线", "Margin-call line"], liquidation_line: ["平仓线", "Liquidation line"],
  pledged_value: ["押品价值", "Pledged value"], top_up: ["需补足", "Top-up needed"], sku: ["SKU", "SKU"], quantity: ["数量", "Quantity"],
  unit_price: ["单价", "Unit price"], haircut: ["折扣率", "Haircut"], identity: ["标识", "Identity"],
  cov_ok: ["正常", "adequate"], cov_margin_call: ["追加保证金", "margin call"], cov_liquidation: ["平仓", "liquidation"], cov_unsecured: ["无押品", "no pledge"],
  no_pledges: ["以下贷款没有登记押品：", "These loans have no pledged goods registered:"],
  index_groups: ["指数分组", "Index groups"], scenario: ["场景", "Scenario"], enterprises_n: ["企业数", "Enterprises"],
  index_note: ["同一场景与地区至少5家企业才发布。", "Published only for groups of at least 5 enterprises of one scenario and region."],
  position: ["纬度, 经度 (°)", "Latitude, longitude (°)"], params: ["参数", "Parameters"], unpriced: ["无价格", "Unpriced"], latest: ["最新", "Latest"], mean: ["均值", "Mean"],
  mode_bank_installed: ["银行自装", "bank-installed"], mode_third_party_platform: ["第三方平台", "third-party platform"],
  mode_enterprise_shared: ["企业共享", "enterprise-shared"],
  access_log: ["谁读取了我们的数据", "Who read our data"], access_who: ["读取人", "Who"], access_bank: ["机构", "Bank / organisation"],
  access_what: ["内容", "What"], access_when: ["时间", "When"], access_consent: ["依据授权", "Under consent"],
  access_rows: ["条数", "Rows"], access_export: ["导出 CSV", "Export CSV"], access_more: ["更早的记录", "Older entries"],
  access_own: ["本企业", "this enterprise"], access_domain_credit: ["授信与信用信息", "credit information"],
  access_domain_devices: ["设备清单与数据", "devices and their data"], access_domain_indicators: ["经营指标", "operating indicators"],
  access_domain_telemetry: ["设备读数", "device readings"], access_domain_business: ["经营数据", "business data"],
  access_domain_evidence: ["存证与证明", "evidence and proofs"], access_domain_loans: ["贷款", "loans"],
  access_domain_pledges: ["押品", "pledged goods"], access_domain_alarms: ["预警", "alarms"],
  access_domain_portfolio: ["借款企业清单（等级、授信决定、敞口、预警）", "borrower list (grade, decision, exposure, alarms)"],
  access_domain_other: ["其他数据", "other data"], access_none: ["暂无读取记录。", "No reads recorded yet."],
  access_hint: ["每一次对本企业设备数据、经营数据或信用信息的读取都会被记录：谁、哪个机构、读了什么、何时、依据哪份授权。",
    "Every read of this enterprise's device data, business data or credit information is recorded: who, which organisation, what, when and under which consent."],
  calendar: ["停产与检修日历", "Shutdowns and maintenance"], period_kind: ["类型", "Kind"], period_from: ["开始", "From"], period_to: ["结束", "To"],
  period_applies: ["范围", "Applies to"], note: ["备注", "Note"], period_whole: ["全企业", "whole enterprise"], period_add: ["登记", "Declare"],
  period_times_needed: ["请填写开始与结束时间", "Enter a start and an end time"],
  calendar_hint: ["登记的停产、检修与放假日不计入基线，也不据此预警；法定节假日与调休按国务院办公厅通知自动处理。时间按本机时区输入，按北京时间显示。",
    "Declared shutdowns, maintenance and rest days are left out of baselines and raise no drop or offline alarm; official PRC holidays and make-up workdays are known already. Times are entered in this browser's time zone and shown in China time."],
  // console-figures: honest charts and plain words
  run_hours_col: ["运行时长（小时/天）", "Run hours (h/d)"], h_per_day: ["小时/天", "h/d"], d_short: ["天", "d"],
  run_hours_note: ["小时/天 = 有数据日的平均运行时长（括号内为有数据的天数）；无数据的日子不计入、不按 0 计；今日未结束，单独显示，不计入平均。",
    "h/d = average run hours over the days with data (their number in brackets); days without data are left out, never counted as 0; today is not over, so it is shown apart and not averaged."],
  run_hours_none: ["无数据", "no data"], today_partial: ["今日（未结束）", "today (partial)"],
  today_so_far: ["今日至今 {h} 小时（已观测 {o} 小时）", "today so far {h} h ({o} h observed)"],
  range_fitted: ["数据自 {day} 起，显示 {n} 天", "data start {day}: showing {n} days"],
  partial_point: ["未完整日（数据不全）", "partial day (incomplete data)"], unit_cny: ["元", "CNY"],
  no_decision_request: ["尚无授信决策——可在上方申请一次。", "No decision yet — request one above."],
  no_decision_wait: ["尚无授信决策——请联系信贷员发起。", "No decision yet — ask a credit officer to request one."],
  no_checks_hint: ["暂无可核对的申报期间——申报期间须与设备数据重叠；设备上报满一个季度后再查看。",
    "No reported period overlaps the device data yet — nothing to check; look again once the devices have reported for a full quarter."],
  no_statements: ["未提交财务报表", "no statements"],
  no_statements_hint: ["尚无申报报表可核对——请企业上传季度财务报表后再核验。", "No reported statements to check yet — ask the firm to upload its quarterly statements."],
  no_indicators_hint: ["尚无指标值——设备首次上报后的次日起显示。", "No indicator values yet — they appear the day after the devices first report."],
  tree_head_explain: ["签名树头：平台对账本当前全部记录算出一个指纹（根哈希）并签名，任何记录事后被改动，指纹都会对不上。",
    "Signed tree head: the platform's signed fingerprint (root hash) of every record in the ledger so far; changing any record afterwards would no longer match it."],
  proof_explain: ["包含证明：一串哈希，可在本机验证某批读数确实包含在已签名的指纹中，无需信任平台。",
    "Inclusion proof: a short chain of hashes that lets anyone check, on their own machine, that a batch of readings is inside the signed fingerprint, without trusting the platform."],
  no_tree_head: ["尚无签名树头——设备首批读数入库后自动生成，请稍后再查看。", "No signed tree head yet — one is made when the first batch of device readings arrives; check again after devices report."],
  // bulk device provisioning (pages/provision.js)
  nav_provision: ["设备批量开通", "Provision devices"],
  prov_hint: ["上传设备清单（CSV UTF-8 或 XLSX，首行为表头）：key、device_type、source_mode 必填，site 为站点名称或编号，attr.<名称> 为安装属性。合格的行在一个事务中全部创建，不合格的行逐行列出，不创建任何内容。",
    "Upload a device list (CSV UTF-8 or XLSX, header in the first row): key, device_type and source_mode are required, site is a site name or id, attr.<name> are install attributes. Valid rows are created together in one transaction; refused rows are listed one by one and create nothing."],
  prov_enterprise: ["企业", "Enterprise"], prov_file: ["设备清单文件", "Device file"], prov_dry_run: ["仅校验，不创建", "Check only, create nothing"],
  prov_upload: ["上传并开通", "Upload and provision"], prov_pick_file: ["请选择文件", "Choose a file"],
  prov_report: ["导入结果", "Import report"], prov_errors: ["被拒绝的行", "Refused rows"], prov_no_errors: ["没有被拒绝的行", "No row was refused"],
  prov_summary: ["共 {rows} 行：已创建 {valid} 台设备，拒绝 {refused} 行。", "{rows} rows: {valid} devices created, {refused} rows refused."],
  prov_summary_dry: ["共 {rows} 行：{valid} 行合格（仅校验，未创建），拒绝 {refused} 行。", "{rows} rows: {valid} valid (dry run, nothing created), {refused} rows refused."],
  prov_row: ["行号", "Row"], prov_column: ["列", "Column"], prov_value: ["值", "Value"], prov_reason: ["原因", "Reason"],
  prov_download: ["下载 {n} 台设备的接入凭证（CSV）", "Download the access tokens of {n} devices (CSV)"],
  prov_downloaded: ["凭证已下载（仅此一次）", "Tokens downloaded (once only)"],
  prov_once: ["接入凭证只显示一次，平台只保存其哈希。请下载后交给安装人员妥善保管。", "Access tokens are shown once; the platform keeps only their hashes. Download them and hand them to the installer."],
  prov_no_enterprise: ["没有可管理的企业：需要企业先向您的机构授权。", "No enterprise to manage: an enterprise must first grant your organisation a consent."],
  wb_title: ["风险工作台：借款企业", "Risk workbench: borrowers"], wb_search: ["按企业名称搜索", "Search by borrower name"],
  wb_search_go: ["搜索", "Search"], wb_industry: ["行业", "Industry"], wb_outcome: ["最新授信决定", "Latest decision"],
  wb_all_industries: ["全部行业", "All industries"], wb_all_outcomes: ["全部决定", "All decisions"],
  wb_no_decision: ["尚无决定", "No decision yet"], wb_critical_only: ["仅有严重预警", "Critical alarms only"],
  wb_watched_only: ["仅我的关注", "My watch-list only"], wb_export_csv: ["导出 CSV", "Export CSV"],
  wb_export_xlsx: ["导出 XLSX", "Export XLSX"], wb_prev: ["上一页", "Previous"], wb_next: ["下一页", "Next"],
  wb_page: ["第 {page} / {pages} 页，共 {total} 户", "Page {page} of {pages}, {total} borrowers"],
  wb_empty: ["没有符合条件的借款企业。", "No borrower matches."], wb_watch: ["加入我的关注", "Add to my watch-list"],
  wb_unwatch: ["取消关注", "Remove from my watch-list"], wb_was: ["上次 {grade}", "was {grade}"], wb_limit: ["批准额度", "Approved limit"],
  wb_pledged: ["押品价值", "Pledged value"], wb_evidence_days: ["近30天中有 {n} 天有设备证据", "{n} of the last 30 days with device evidence"],
  wb_devices_online: ["{online} / {devices} 台可读设备在线", "{online} of {devices} readable devices online"],
  wb_consent_partial: ["授权仅覆盖部分设备：企业级指标不显示", "Consent covers part of the devices: enterprise figures hidden"],
  wb_spark_title: ["{indicator}，近30天，最近一天 {last}；{median}", "{indicator}, last 30 days, latest {last}; {median}"],
  wb_spark_median: ["虚线为同地区行业中位数", "dashed: the industry median of its region"],
  wb_spark_no_median: ["该地区行业指数未发布", "no industry index published for its region"],
  wb_concentration: ["风险集中度（敞口合计）", "Where the exposure sits (total)"], wb_by_industry: ["按行业", "By industry"],
  wb_by_grade: ["按最新等级", "By latest grade"], wb_ungraded: ["未评级", "Ungraded"],
  wb_no_exposure: ["本行对这些企业没有在贷余额。", "The bank has no live loan to these borrowers."],
  wb_borrowers_n: ["{n} 户", "{n} borrowers"], wb_week: ["本周变化（近7天）", "This week (last 7 days)"],
  wb_downgrades: ["等级下调", "Grade downgrades"], wb_new_critical: ["新增严重预警", "New critical alarms"],
  wb_decisions_made: ["新作出的授信决定", "Credit decisions made"],
  nav_commands: ["指令", "Commands"], commands: ["终端指令", "Commands to the device"],
  cmd_request: ["下发指令…", "Request a command…"], cmd_request_title: ["申请下发指令：{device}", "Request a command: {device}"],
  cmd_operation: ["操作", "Operation"], cmd_params: ["参数", "Parameters"], cmd_reason: ["理由（必填）", "Reason (required)"],
  cmd_loan: ["关联贷款（以该车辆为押品）", "Loan (the vehicle is its collateral)"], cmd_no_loan: ["不关联贷款", "No loan"],
  cmd_alarm: ["来源预警", "Prompted by alarm"], cmd_device: ["终端", "Device"], cmd_submit: ["提交", "Submit"],
  cmd_four_eyes: ["需要本行另一位信贷员或风险经理复核批准（四眼原则）。", "A second credit officer or risk manager of your bank must approve (four eyes)."],
  cmd_stationary: ["仅当车辆最后上报车速为 0 且熄火时可执行。", "Only when the vehicle last reported speed 0 with the ignition off."],
  cmd_needs_loan: ["仅限贷款处于{states}状态。", "Only while the loan is in {states}."],
  cmd_not_allowed: ["不可申请", "not available"], cmd_none_allowed: ["您无权向该终端申请任何指令。", "You may not request any command for this device."],
  cmd_requested: ["指令已提交：#{id}（{state}）", "Command submitted: #{id} ({state})"],
  cmd_pending: ["待我审批的指令", "Commands awaiting approval"], cmd_all: ["本机构的全部指令", "All commands of my organisation"],
  cmd_mine_readonly: ["向本企业设备下发的全部指令（只读）", "Every command sent to our devices (read-only)"],
  cmd_approve: ["批准", "Approve"], cmd_reject: ["驳回", "Reject"], cmd_cancel: ["撤销", "Cancel command"],
  cmd_decide_title: ["审批指令 #{id}", "Decide command #{id}"], cmd_decision_reason: ["意见（驳回时必填）", "Reason (required to reject)"],
  cmd_own: ["本人申请，需他人审批", "your request: another person decides"],
  cmd_requested_at: ["申请时间", "Requested"], cmd_decided_at: ["审批时间", "Decided"], cmd_sent_at: ["下发时间", "Sent"],
  cmd_answered_at: ["应答时间", "Answered"], cmd_answer: ["终端应答", "Device's answer"], cmd_expires: ["有效期至", "Expires"],
  cmd_by: ["申请人/审批人", "Requested by / decided by"], cmd_refresh: ["刷新", "Refresh"],
  cmd_vehicle_state: ["车辆状态（最近上报）", "Vehicle state (latest reports)"],
};

let lang = localStorage.getItem("wuxin.lang") || ((navigator.language || "zh-CN").startsWith("zh") ? "zh-CN" : "en");
export const TIME_ZONE = "Asia/Shanghai";

export function getLang() { return lang; }
export function setLang(next) { lang = next; localStorage.setItem("wuxin.lang", next); document.documentElement.lang = next; }
document.documentElement.lang = lang;

export function t(key, vars = {}) {
  const pair = STRINGS[key];
  let text = pair ? pair[lang === "en" ? 1 : 0] : key;
  for (const [k, v] of Object.entries(vars)) text = text.replace(`{${k}}`, v);
  return text;
}

let CODES = {};
/** The labels of every code the API returns ({kind: {code: {zh, en, unit?}}} from /api/v1/labels), set once after login. */
export function setCodeLabels(data) { CODES = data || {}; }
/** A code's label in the user's language: the scenario packs' and the platform's words, the code itself if unknown. */
export function code(kind, value) {
  if (value == null) return "—";
  const entry = CODES[kind]?.[value];
  return entry ? (lang === "en" ? entry.en : entry.zh) || String(value) : String(value);
}
/** The unit a metric or indicator is measured in, from the same labels. */
/** Whether the labels know this code. */
export const hasCode = (kind, value) => Boolean(CODES[kind]?.[value]);
/** Every code of one kind (e.g. the consent purposes the console offers). */
export const codesOf = (kind) => Object.keys(CODES[kind] || {});
/** Whether a device type plays a role (its scenario pack's manifest), e.g. "immobilises_vehicle". */
export const hasRole = (deviceType, role) => Boolean(CODES.device_type?.[deviceType]?.roles?.includes(role));
/** A scenario's colour on the console (its pack's manifest). */
export const colourOf = (scenario) => CODES.scenario?.[scenario]?.colour || "#333";
export const unitOf = (kind, value) => { const u = CODES[kind]?.[value]?.unit; return u ? code("unit", u) : null; };
/** A metric's or indicator's label with its unit: "电流 (A)". */
export const withUnit = (kind, value) => { const u = unitOf(kind, value); return `${code(kind, value)}${u ? ` (${u})` : ""}`; };

export function tOr(key, fallback) { return STRINGS[key] ? t(key) : fallback; }
const locale = () => (lang === "en" ? "en-US" : "zh-CN");
export const fmtNum = (x, digits = 0) => x == null || Number.isNaN(x) ? "—" :
  new Intl.NumberFormat(locale(), { maximumFractionDigits: digits, minimumFractionDigits: 0 }).format(x);
export const fmtPct = (x) => x == null ? "—" : new Intl.NumberFormat(locale(), { style: "percent", maximumFractionDigits: 1 }).format(x);
export const fmtCny = (x) => x == null ? "—" : new Intl.NumberFormat(locale(), { style: "currency", currency: "CNY", maximumFractionDigits: 0 }).format(x);
/** A number with exactly `digits` decimals (axis ticks: 20.00, 20.05 rather than 20 and 20.1 twice). */
export const fmtFixed = (x, digits = 0) => x == null || Number.isNaN(x) ? "—" :
  new Intl.NumberFormat(locale(), { maximumFractionDigits: digits, minimumFractionDigits: digits }).format(x);
/** CNY short enough for a KPI card (¥200万 / CN¥2M); the full amount goes in its title. */
export const fmtCnyCompact = (x) => x == null ? "—" :
  new Intl.NumberFormat(locale(), { style: "currency", currency: "CNY", notation: "compact", maximumFractionDigits: 1 }).format(x);
export const fmtDateTime = (ms) => ms == null ? "—" : new Intl.DateTimeFormat(locale(), {
  timeZone: TIME_ZONE, year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", hour12: false }).format(new Date(ms));
export const fmtDate = (ms) => ms == null ? "—" : new Intl.DateTimeFormat(locale(), {
  timeZone: TIME_ZONE, year: "numeric", month: "2-digit", day: "2-digit" }).format(new Date(ms));
export const fmtShortDate = (ms) => new Intl.DateTimeFormat(locale(), { timeZone: TIME_ZONE, month: "short", day: "numeric" }).format(new Date(ms));

/** An indicator's label from its catalog row, in the user's language. */
export const labelOf = (row, fallback) => row?.label ? (lang === "en" ? row.label.en : row.label.zh) || fallback : fallback;

/** A value with its unit: shares as percent, CNY as currency, others as a number and the unit. */
export function fmtValue(value, unit, digits = 1) {
  if (value == null) return "—";
  if (unit === "1") return fmtPct(value);
  if (unit === "CNY") return fmtCny(value);
  return `${fmtNum(value, digits)}${unit ? " " + code("unit", unit) : ""}`;
}
