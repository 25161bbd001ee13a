"""The demo's tenants and people: who logs in to `wuxin demo`, with which password and role."""

DEMO_BANK = "苏州示范银行 Demo Bank"
OTHER_BANK = "江南对照银行 Other Bank"
OPERATOR = "物信监测 Wuxin Monitoring (operator)"
DEMO_PASSWORD = "wuxin-demo-2026"
DEMO_USERS = [  # username, password, role — printed by `wuxin demo`
    ("admin", DEMO_PASSWORD, "platform_admin"),
    ("officer", DEMO_PASSWORD, "credit_officer"),
    ("risk", DEMO_PASSWORD, "risk_manager"),
    ("risk2", DEMO_PASSWORD, "risk_manager (validated the demo's credit model; four eyes)"),
    ("integrator", DEMO_PASSWORD, "integrator"),
    ("owner", DEMO_PASSWORD, "enterprise_user (first borrower of the demo portfolio's industry)"),
    ("other-officer", DEMO_PASSWORD, "credit_officer at another bank (sees nothing)"),
]
