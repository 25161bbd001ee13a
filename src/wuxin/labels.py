"""zh-CN and English labels of every code the API returns, grouped by kind: one source for the console,
the credit report and anything else a person reads.

Pack codes come from the scenario packs (manifest.json: the scenario, its alarm types and unit words; thing models:
device types, metrics with their units, events; indicators.py: indicators with units; business.json: business-data
kinds and fields). Platform codes
come from the Python enumerations beside the code that uses them; the labels below are keyed by those
enumerations, and tests/unit/test_labels.py fails when an enumeration gains a code without both labels.
"""

from __future__ import annotations

from functools import lru_cache
from typing import get_args

from wuxin.alerts.rules import SEVERITIES
from wuxin.calendars.periods import PERIOD_KINDS
from wuxin.commands.jt808 import JT808
from wuxin.commands.model import STATES as COMMAND_STATES
from wuxin.commands.model import VEHICLE_STATE_KEYS
from wuxin.commands.rpc import STANDARD as RPC_STANDARD
from wuxin.domain.model import ConsentScope, Role, SourceMode, TenantKind
from wuxin.ingest.jt808.commands import PARAMETERS as JT808_PARAMETERS
from wuxin.loans.lifecycle import STATES as LOAN_STATES
from wuxin.loans.pledge import IDENTITY_KINDS
from wuxin.loans.risk_class import RISK_CLASSES
from wuxin.risk.business import KINDS as BUSINESS_KINDS
from wuxin.risk.crossverify import Level, Status
from wuxin.risk.decisions import BASIS_LABELS
from wuxin.risk.features import EXTRA_FEATURE_LABELS_EN, FEATURE_LABELS_ZH, IOT_FEATURES, STATEMENT_FEATURES
from wuxin.risk.governance import STATES as MODEL_STATES
from wuxin.risk.messages import FINDING_CODES, FINDING_TEMPLATES, PROVENANCE_CODES
from wuxin.risk.portfolio import COLUMNS as PORTFOLIO_COLUMNS
from wuxin.risk.portfolio import EXPORT_ONLY as PORTFOLIO_EXPORT_ONLY
from wuxin.risk.products import CONDITIONS, OUTCOMES
from wuxin.risk.pv_messages import PV_CHECK_WORDS
from wuxin.scenarios import packs_dirs, scenario_packs
from wuxin.services.bootstrap import business_labels, check_words, indicator_packs, products, unit_words

Label = dict[str, str]

ALARM_STATES = ("active", "acknowledged", "cleared")  # services.monitoring
REVIEW_STATES = ("pending", "approved", "rejected")  # services.credit_workflow (four-eyes reviews)
# Alarm types the platform raises itself (not a pack's rules): pledge coverage and loan zones.
PLATFORM_ALARM_TYPES = {
    "liquidation_line": ("跌破平仓线", "Below the liquidation line"),
    "margin_call": ("押品覆盖率跌破警戒线", "Margin call"),
    "zone_exit": ("驶出质押区域", "Left the pledge zone"),
}
# Consent purposes the console offers; a consent may carry any other text, shown as written.
CONSENT_PURPOSES = {
    "credit_monitoring": ("信贷评估与贷后监控", "Credit assessment and post-loan monitoring"),
    "device_maintenance": ("设备安装与维护", "Device installation and maintenance"),
}

# Units as a person reads them: symbols stay symbols, counted things get their Chinese measure word. These are the
# units of any industry; a pack's own (head, lifts, ...) are in its manifest `units`.
UNIT_WORDS = {
    "count": ("个", "count"),
    "units": ("件", "units"),
    "d": ("天", "d"),
    "events": ("次", "events"),
    "1": ("比率", "ratio"),
    "m3": ("m³", "m³"),
    "CNY": ("元", "CNY"),
    "h": ("小时", "h"),
    "s": ("秒", "s"),
    "min": ("分钟", "min"),
    "t": ("吨", "t"),
}
EXPLANATION_UNITS = ("1", "h", "s", "kWh", "km", "units")  # fixed units of alarm explanations (alerts/explain.py)
# The alarm desk (services/monitoring/alarm_desk.py): the list's and the CSV's columns, the actions in an alarm's history,
# the side a value crossed, and the figures rules put in an alarm's detail (alerts/explain.py).
ALARM_FIELDS = {
    "id": ("编号", "ID"),
    "severity": ("级别", "Severity"),
    "alarm_type": ("预警类型", "Alarm type"),
    "status": ("状态", "State"),
    "borrower": ("借款企业", "Borrower"),
    "device": ("设备编号", "Device"),
    "device_type": ("设备类型", "Device type"),
    "site": ("厂区/站点", "Site"),
    "metric": ("指标", "Metric"),
    "value": ("数值", "Value"),
    "threshold": ("阈值", "Threshold"),
    "baseline": ("基线", "Baseline"),
    "unit": ("单位", "Unit"),
    "window": ("判定窗口", "Window"),
    "opened": ("开始时间", "Opened"),
    "last_seen": ("最后出现", "Last seen"),
    "occurrences": ("次数", "Occurrences"),
    "acknowledged_at": ("确认时间", "Acknowledged at"),
    "cleared_at": ("解除时间", "Cleared at"),
    "rule_id": ("规则", "Rule"),
}
ALARM_ACTIONS = {
    "raise": ("触发", "Raised"),
    "acknowledge": ("确认", "Acknowledged"),
    "clear": ("解除", "Cleared"),
    "escalate": ("升级", "Escalated"),
}
COMPARISONS = {"above": ("高于", "above"), "below": ("低于", "below")}
ALARM_FACTS = {
    "value": ("数值", "value"),
    "limit": ("阈值", "limit"),
    "rate_per_hour": ("每小时变化", "change per hour"),
    "skew_s": ("时钟偏差", "clock skew"),
    "limit_s": ("允许偏差", "allowed skew"),
    "share": ("上报比例", "share reporting"),
    "min_share": ("最低比例", "minimum share"),
    "usual_share": ("通常比例", "usual share"),
    "reporting": ("上报设备数", "devices reporting"),
    "registered": ("登记设备数", "devices registered"),
    "running_h": ("运行时长", "running hours"),
    "low_h": ("下限时长", "lower bound"),
    "usual_h": ("通常时长", "usual hours"),
    "meter_kwh": ("电表电量", "meter energy"),
    "expected_kwh": ("预期电量", "expected energy"),
    "tolerance_kwh": ("允许偏差", "tolerance"),
    "machines_kwh": ("设备推算电量", "energy the machines imply"),
    "gap_kwh": ("差额", "gap"),
    "rollback_km": ("回退里程", "rollback"),
    "tolerance_km": ("允许回退", "tolerance"),
    "from_km": ("回退前读数", "reading before"),
    "to_km": ("回退后读数", "reading after"),
    "ratio": ("比率", "ratio"),
    "usual_ratio": ("通常比率", "usual ratio"),
    "baseline_pr": ("基线性能比", "baseline performance ratio"),
    "odometer_km": ("里程表里程", "odometer distance"),
    "gps_km": ("GPS 里程", "GPS distance"),
    "measured_kwh": ("实测发电量", "measured energy"),
    "similarity": ("相似度", "similarity"),
    "usual_similarity": ("通常相似度", "usual similarity"),
    "roughness": ("粗糙度", "roughness"),
    "usual_roughness": ("通常粗糙度", "usual roughness"),
    "stock_units": ("库存数量", "stock"),
    "pledged_units": ("质押数量", "pledged quantity"),
    "readers": ("读写器数", "readers"),
    "lot": ("批次", "lot"),
    "coverage_ratio": ("押品覆盖率", "coverage ratio"),
    "pledged_value_cny": ("押品价值", "pledged value"),
    "outstanding_cny": ("贷款余额", "outstanding"),
    "top_up_cny": ("需补足金额", "top-up needed"),
    "status": ("状态", "status"),
    "units": ("数量", "units"),
    "unconfirmed_by": ("缺少确认", "not confirmed by"),
    "test": ("检验", "test"),
    "state": ("状态", "state"),
    "event": ("事件", "event"),
    "zone": ("区域", "zone"),
    "zone_id": ("区域", "zone"),
    "lat": ("纬度", "latitude"),
    "lon": ("经度", "longitude"),
    "day": ("日期序号", "day number"),
    "days_outside": ("超出天数", "days outside"),
    "herd_median": ("群体中位数", "herd median"),
    "excess": ("超出量", "excess"),
    "min_excess": ("最小超出量", "minimum excess"),
    "points": ("点数", "points"),
    "period_ms": ("周期(毫秒)", "period (ms)"),
    "lag_s": ("时间差(秒)", "lag (s)"),
    "source_day_start_ms": ("被复制的日期", "day copied from"),
    "slope": ("斜率", "slope"),
    "base_kwh": ("基础电量", "base load energy"),
    "machines": ("设备数", "machines"),
    "high": ("上限", "upper bound"),
    "low": ("下限", "lower bound"),
    "direction": ("方向", "direction"),
    "median": ("中位数", "median"),
    "window_days": ("窗口天数", "window days"),
    "baseline_days": ("基线天数", "baseline days"),
    "history_days": ("历史天数", "history days"),
    "regime_since_day": ("新常态起始日", "new regime since day"),
    "at_ms": ("发生时间", "at"),
    "threshold": ("阈值", "threshold"),
    "via": ("方式", "via"),
}
# Business data (wuxin.risk.business KINDS): the kinds every firm has and their fields; a pack's own are in its
# business.json.
BUSINESS_KIND_LABELS = {
    "statements": ("财务报表", "Financial statements"),
    "tax_invoices": ("增值税发票", "Tax invoices"),
    "electricity_bills": ("电费账单", "Electricity bills"),
    "bank_flows": ("银行流水", "Bank flows"),
    "wms_movements": ("仓储出入库记录", "WMS stock movements"),
    "price_index": ("商品价格指数", "Commodity price index"),
    "loan_outcomes": ("贷款表现", "Loan outcomes"),
}
BUSINESS_FIELD_LABELS = {
    "uscc": ("统一社会信用代码", "USCC"),
    "period": ("报告期", "Period"),
    "period_start": ("期初日期", "Period start"),
    "period_end": ("期末日期", "Period end"),
    "revenue_cny": ("营业收入(元)", "Revenue (CNY)"),
    "costs_cny": ("营业成本(元)", "Costs (CNY)"),
    "net_profit_cny": ("净利润(元)", "Net profit (CNY)"),
    "total_assets_cny": ("资产总额(元)", "Total assets (CNY)"),
    "total_liabilities_cny": ("负债总额(元)", "Total liabilities (CNY)"),
    "invoice_no": ("发票号码", "Invoice number"),
    "date": ("日期", "Date"),
    "amount_cny": ("金额(元)", "Amount (CNY)"),
    "direction": ("方向", "Direction"),
    "month": ("月份", "Month"),
    "kwh": ("电量(kWh)", "Energy (kWh)"),
    "meter_id": ("电表编号", "Meter ID"),
    "inflow_cny": ("流入(元)", "Inflow (CNY)"),
    "outflow_cny": ("流出(元)", "Outflow (CNY)"),
    "account": ("账户", "Account"),
    "sku": ("商品编码", "SKU"),
    "quantity": ("数量", "Quantity"),
    "ts": ("时间", "Time"),
    "movement_id": ("出入库单号", "Movement ID"),
    "zone_id": ("库区", "Zone"),
    "lot_id": ("批次", "Lot"),
    "price_cny_per_unit": ("单价(元)", "Unit price (CNY)"),
    "unit": ("计量单位", "Unit"),
    "loan_ref": ("贷款编号", "Loan reference"),
    "days_past_due": ("逾期天数", "Days past due"),
    "defaulted": ("是否违约", "Defaulted"),
    "observed_date": ("观察日期", "Observed on"),
}
BUSINESS_FIELDS = tuple(dict.fromkeys(f.name for spec in BUSINESS_KINDS.values() for f in spec.fields))

TENANT_KINDS = {
    "bank": ("银行", "Bank"),
    "operator": ("平台运营方", "Operator"),
    "regulator": ("监管机构", "Regulator"),
}

# The risk workbench's columns (risk/portfolio.py): the console's headers and the CSV / XLSX exports' headers.
PORTFOLIO_COLUMN_LABELS = {
    "watched": ("关注", "Watched"),
    "name": ("借款企业", "Borrower"),
    "industry": ("行业", "Industry"),
    "outcome": ("最新授信决定", "Latest decision"),
    "grade": ("等级", "Grade"),
    "score": ("评分", "Score"),
    "score_change": ("评分变动", "Score change"),
    "exposure_cny": ("敞口（元）", "Exposure (CNY)"),
    "limit_use_ratio": ("额度使用率", "Limit use"),
    "activity_trend_ratio": ("近7天活跃度/30天均值", "Activity 7 d / 30 d"),
    "alarms_critical": ("严重预警", "Critical alarms"),
    "alarms_open": ("未结预警", "Open alarms"),
    "evidence_coverage_ratio": ("证据覆盖率（30天）", "Evidence coverage (30 d)"),
    "online_share_ratio": ("设备在线率", "Online share"),
    "pledge_coverage_ratio": ("押品覆盖率", "Pledge coverage"),
    "region": ("地区", "Region"),
    "previous_grade": ("上次等级", "Previous grade"),
    "limit_cny": ("批准额度（元）", "Approved limit (CNY)"),
    "alarms_major": ("重要预警", "Major alarms"),
    "alarms_minor": ("次要预警", "Minor alarms"),
    "alarms_warning": ("提示预警", "Warning alarms"),
    "devices_online": ("在线设备数", "Devices online"),
    "devices": ("可读设备", "Readable devices"),
    "pledged_value_cny": ("押品价值（元）", "Pledged value (CNY)"),
    "decided_day": ("决策日期", "Decided on"),
}

FEATURE_LABELS_EN = {f.name: f.label for f in IOT_FEATURES + STATEMENT_FEATURES} | EXTRA_FEATURE_LABELS_EN

# the built-in thing models' services (a thing model imported later labels its own in its TSL)
BUILT_IN_SERVICES = (
    "set_run_threshold",
    "relay_control",
    "locate_now",
    "set_overspeed_limit",
)  # immobilise, restore: as JT808

_PLATFORM: dict[str, tuple[tuple[str, ...], dict[str, tuple[str, str]]]] = {
    "severity": (
        SEVERITIES,
        {
            "critical": ("严重", "Critical"),
            "major": ("重要", "Major"),
            "minor": ("次要", "Minor"),
            "warning": ("提示", "Warning"),
        },
    ),
    "alarm_state": (
        ALARM_STATES,
        {"active": ("未处理", "Active"), "acknowledged": ("已确认", "Acknowledged"), "cleared": ("已解除", "Cleared")},
    ),
    "loan_state": (
        LOAN_STATES,
        {
            "application": ("申请", "Application"),
            "assessment": ("评估", "Assessment"),
            "monitoring_plan": ("制定监控方案", "Monitoring plan"),
            "installation": ("设备安装", "Installation"),
            "approval": ("审批", "Approval"),
            "disbursement": ("放款", "Disbursement"),
            "monitoring": ("贷后监控", "Monitoring"),
            "warning": ("预警", "Warning"),
            "disposal": ("处置", "Disposal"),
            "closed": ("已结清", "Closed"),
            "rejected": ("已拒绝", "Rejected"),
        },
    ),
    "risk_class": (
        RISK_CLASSES,
        {
            "normal": ("正常", "Normal"),
            "special_mention": ("关注", "Special mention"),
            "substandard": ("次级", "Substandard"),
            "doubtful": ("可疑", "Doubtful"),
            "loss": ("损失", "Loss"),
        },
    ),
    "outcome": (
        OUTCOMES,
        {"approve": ("批准", "Approve"), "refer": ("转人工审批", "Refer to a person"), "decline": ("拒绝", "Decline")},
    ),
    "condition": (
        tuple(CONDITIONS),
        {
            "cross_verification_failed": ("交叉验证未通过", "Cross-verification failed"),
            "cross_verification_undecided": ("交叉验证无法判定", "Cross-verification undecided"),
            "evidence_days_below": ("IoT 证据天数不足", "Too few days of IoT evidence"),
            "iot_coverage_below": ("IoT 覆盖率不足", "IoT coverage too low"),
            "missing_features_above": ("缺失特征过多", "Too many missing features"),
            "tamper_alarms_open": ("有未解除的防拆报警", "Open tamper alarms"),
            "fabricated_data_alarms_open": ("有未解除的疑似伪造数据预警", "Open fabricated-data alarms"),
            "clock_alarms_open": ("有未解除的时钟偏差预警", "Open clock-skew alarms"),
            "devices_offline_above": ("离线设备比例过高", "Too many devices offline"),
            "enterprise_shared_evidence_only": ("仅有企业共享设备的证据", "Enterprise-shared evidence only"),
        },
    ),
    "basis": (tuple(BASIS_LABELS), {k: v for k, v in BASIS_LABELS.items()}),
    "model_state": (
        MODEL_STATES,
        {
            "draft": ("草稿", "Draft"),
            "validated": ("已验证", "Validated"),
            "approved": ("已批准", "Approved"),
            "active": ("在用", "Active"),
            "retired": ("已停用", "Retired"),
        },
    ),
    "review_state": (
        REVIEW_STATES,
        {"pending": ("待复核", "Pending"), "approved": ("复核通过", "Approved"), "rejected": ("复核驳回", "Rejected")},
    ),
    "calendar_kind": (
        PERIOD_KINDS,
        {
            "shutdown": ("停产", "Shutdown"),
            "maintenance": ("检修", "Maintenance"),
            "holiday_extra": ("额外放假", "Extra rest day"),
        },
    ),
    "role": (
        tuple(Role),
        {
            "platform_admin": ("平台管理员", "Platform admin"),
            "credit_officer": ("信贷员", "Credit officer"),
            "risk_manager": ("风险经理", "Risk manager"),
            "enterprise_user": ("企业用户", "Enterprise user"),
            "integrator": ("集成商", "Integrator"),
            "regulator": ("监管", "Regulator"),
        },
    ),
    "source_mode": (
        tuple(SourceMode),
        {
            "bank_installed": ("银行自装", "Bank-installed"),
            "third_party_platform": ("第三方平台", "Third-party platform"),
            "enterprise_shared": ("企业共享", "Enterprise-shared"),
        },
    ),
    "consent_scope": (
        tuple(ConsentScope),
        {
            "all": ("全部设备", "All devices"),
            "scenarios": ("指定场景", "Scenarios"),
            "devices": ("指定设备", "Devices"),
        },
    ),
    "consent_purpose": (tuple(CONSENT_PURPOSES), CONSENT_PURPOSES),
    "tenant_kind": (tuple(TenantKind), TENANT_KINDS),
    "feature": (tuple(FEATURE_LABELS_EN), {k: (FEATURE_LABELS_ZH[k], en) for k, en in FEATURE_LABELS_EN.items()}),
    "check_status": (
        get_args(Status),
        {
            "consistent": ("一致", "Consistent"),
            "overstated": ("高报", "Overstated"),
            "understated": ("低报", "Understated"),
            "insufficient_evidence": ("证据不足", "Insufficient evidence"),
        },
    ),
    "check_level": (
        get_args(Level),
        {
            "verified": ("已验证", "Verified"),
            "supported": ("仅佐证", "Supported only"),
            "not_verified": ("未验证", "Not verified"),
        },
    ),
    "command_state": (
        COMMAND_STATES,
        {
            "requested": ("待审批", "Awaiting approval"),
            "approved": ("已批准待下发", "Approved, waiting to be sent"),
            "sent": ("已下发", "Sent"),
            "acknowledged": ("终端已确认", "Acknowledged by the device"),
            "failed": ("执行失败", "Failed"),
            "expired": ("已过期", "Expired"),
            "refused": ("已驳回", "Refused"),
            "cancelled": ("已撤销", "Cancelled"),
        },
    ),
    "command_operation": (
        tuple(JT808.operations) + tuple(op.name for op in RPC_STANDARD) + BUILT_IN_SERVICES,
        {
            "query_parameters": ("查询终端参数", "Query terminal parameters"),
            "set_parameters": ("设置终端参数", "Set terminal parameters"),
            "query_location": ("位置信息查询", "Query location"),
            "send_text": ("文本信息下发", "Send a text message"),
            "lock_doors": ("车门加锁", "Lock the doors"),
            "unlock_doors": ("车门解锁", "Unlock the doors"),
            "immobilise": ("断油断电", "Cut oil and power (immobilise)"),
            "restore": ("恢复油电", "Restore oil and power"),
            "set_report_interval": ("设置上报间隔", "Set the reporting interval"),
            "set_run_threshold": ("设置运行判定电流", "Set the running current threshold"),
            "relay_control": ("拉闸/合闸", "Open / close the relay"),
            "locate_now": ("立即定位", "Locate now"),
            "set_overspeed_limit": ("设置超速阈值", "Set the overspeed limit"),
        },
    ),
    "portfolio_column": (PORTFOLIO_COLUMNS + PORTFOLIO_EXPORT_ONLY, PORTFOLIO_COLUMN_LABELS),
    "flag": (("yes", "no"), {"yes": ("是", "Yes"), "no": ("否", "No")}),
    # cross-verification findings: templates filled with a check result's finding_params (wuxin.risk.messages)
    "finding": (FINDING_CODES + PROVENANCE_CODES + ("said", "basis"), FINDING_TEMPLATES),
    "alarm_field": (tuple(ALARM_FIELDS), ALARM_FIELDS),
    "alarm_action": (tuple(ALARM_ACTIONS), ALARM_ACTIONS),
    "comparison": (tuple(COMPARISONS), COMPARISONS),
    "alarm_fact": (tuple(ALARM_FACTS), ALARM_FACTS),
    "command_param": (
        tuple(JT808_PARAMETERS) + ("text", "tts"),
        {
            "heartbeat_interval_s": ("心跳间隔（秒）", "Heartbeat interval (s)"),
            "sleep_report_interval_s": ("休眠汇报间隔（秒）", "Report interval asleep (s)"),
            "report_interval_s": ("缺省汇报间隔（秒）", "Report interval (s)"),
            "max_speed_kmh": ("最高速度（km/h）", "Maximum speed (km/h)"),
            "overspeed_duration_s": ("超速持续时间（秒）", "Overspeed duration (s)"),
            "text": ("文本内容", "Text"),
            "tts": ("语音播读", "Read aloud (TTS)"),
        },
    ),
    "vehicle_state": (
        VEHICLE_STATE_KEYS,
        {
            "speed_kmh": ("车速", "Speed"),
            "acc_on": ("ACC点火", "Ignition (ACC)"),
            "oil_cut": ("油路断开", "Oil circuit cut"),
            "circuit_cut": ("电路断开", "Electric circuit cut"),
            "doors_locked": ("车门加锁", "Doors locked"),
        },
    ),
    "business_kind": (tuple(BUSINESS_KINDS), BUSINESS_KIND_LABELS),
    "business_field": (BUSINESS_FIELDS, BUSINESS_FIELD_LABELS),
    "identity_kind": (
        IDENTITY_KINDS,
        {"rfid": ("RFID 标签", "RFID tag"), "serial": ("序列号", "Serial number"), "lot": ("批号", "Lot")},
    ),
}


def _pair(zh: str, en: str) -> Label:
    return {"zh": zh, "en": en}


def platform_labels() -> dict[str, dict[str, Label]]:
    """The Python enumerations' codes with their labels; a code without a label raises KeyError here."""
    return {kind: {code: _pair(*words[code]) for code in codes} for kind, (codes, words) in _PLATFORM.items()}


def pack_labels() -> dict[str, dict[str, dict]]:
    """Scenarios (with their colour), device types, metrics (with unit), events, indicators (with unit), alarm types
    and cross-verification checks of every pack."""
    out: dict[str, dict[str, dict]] = {
        k: {} for k in ("scenario", "device_type", "metric", "event", "indicator", "alarm_type")
    }
    for name, pack in scenario_packs().items():
        out["scenario"][name] = {**pack.label, "colour": pack.colour}
        out["alarm_type"].update({code: dict(label) for code, label in pack.alarm_types.items()})
        for doc in pack.thing_model_docs:
            ext = doc.get("wuxin", {})
            device_type = doc["profile"]["productKey"]
            out["device_type"][device_type] = {**ext.get("label", {}), "roles": list(pack.roles.get(device_type, ()))}
            names_en = ext.get("names_en", {})
            for prop in doc.get("properties", []):
                specs = prop.get("dataType", {}).get("specs")
                unit = specs.get("unit") if isinstance(specs, dict) else None
                out["metric"].setdefault(
                    prop["identifier"],
                    {"zh": prop.get("name", ""), "en": names_en.get(prop["identifier"], ""), "unit": unit},
                )
            for event in doc.get("events", []):
                out["event"].setdefault(
                    event["identifier"], {"zh": event.get("name", ""), "en": names_en.get(event["identifier"], "")}
                )
    for name, ipack in indicator_packs().items():
        for decl in ipack.all():
            out["indicator"].setdefault(decl.name, {**decl.label, "unit": decl.unit})
    for code, (zh, en) in PLATFORM_ALARM_TYPES.items():
        out["alarm_type"].setdefault(code, _pair(zh, en))
    out["check"] = {name: _pair(*words["name"]) for name, words in (check_words() | PV_CHECK_WORDS).items()}
    return out


def product_labels() -> dict[str, Label]:
    return {p.code: _pair(p.name_zh, p.name_en) for p in products().values()}


def unit_labels(packs: dict[str, dict[str, dict]]) -> dict[str, Label]:
    """Every unit a metric or indicator declares, in the packs' words (manifest `units`) or the platform's; a symbol
    (kWh, °C, A) reads the same in both languages."""
    units = {entry["unit"] for kind in ("metric", "indicator") for entry in packs[kind].values() if entry.get("unit")}
    declared = unit_words()
    units |= set(EXPLANATION_UNITS) | set(declared)
    return {u: dict(declared[u]) if u in declared else _pair(*UNIT_WORDS.get(u, (u, u))) for u in sorted(units)}


def all_labels() -> dict[str, dict[str, dict]]:
    """Every kind of code with its labels: {kind: {code: {zh, en[, unit]}}}, for the packs of the packs folders."""
    return _all_labels(packs_dirs())


@lru_cache
def _all_labels(dirs: tuple) -> dict[str, dict[str, dict]]:
    packs = pack_labels()
    platform = platform_labels()
    business = {kind: {**codes, **platform[kind]} for kind, codes in business_labels().items()}
    return {**packs, **platform, **business, "product": product_labels(), "unit": unit_labels(packs)}


def label(kind: str, code: str, lang: str = "zh") -> str:
    """One code's label in `lang` ("zh" or "en"); the code itself when it has none (free text, a new code)."""
    entry = all_labels().get(kind, {}).get(code)
    return entry.get("en" if lang == "en" else "zh") or code if entry else code
