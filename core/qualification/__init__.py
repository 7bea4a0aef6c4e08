"""科技型企业梯度培育: 科技型中小企业 and 高新技术企业 qualification checks, the bureau's
cultivation pool, and gaps turned into draft technical needs the matcher serves.

- ``rules``: the rule sets as versioned data (``rulesets/*.json``), keyed by document number;
- ``assess``: pure assessment functions over a ``Profile`` (no database);
- ``schemas``: input validation (万元 decimal strings, Chinese messages);
- ``service``: stored profiles, permissions, draft needs, the pool, reminders, export/import.
"""
