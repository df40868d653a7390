"""Settings from the environment (prefix DISCLOSURE_), one object for API, worker and commands."""

from functools import lru_cache
from pathlib import Path

import base64
import json
import os
import secrets
from typing import Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from policy.profiles import profile_named


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="DISCLOSURE_", env_file=".env", extra="ignore")

    data_dir: Path = Path("data")
    # Files released with a reply (issue 22, release/intake.py): the largest single upload accepted.
    release_max_bytes: int = Field(default=50 * 1024 * 1024, ge=1024)
    # The released files go with the reply's e-mail while together no larger than this; above it (or by another
    # form) the applicant downloads them on /track through a signed link valid this many days (no earlier than the
    # end of the remedies period: 行政诉讼法 第四十六条, six months from knowing of the decision).
    release_email_max_bytes: int = Field(default=10 * 1024 * 1024, ge=0)
    release_link_days: int = Field(default=190, ge=184)
    database_url: str = "sqlite:///data/disclosure.db"

    temporal_address: str = "127.0.0.1:7233"
    temporal_namespace: str = "default"
    task_queue: str = "disclosure"
    # An existing cluster or Temporal Cloud: mTLS with a client certificate and key (paths to PEM
    # files), plain TLS with the system's trust store (`temporal_tls=true`), or an API key (which
    # turns TLS on by itself).
    temporal_tls: bool = False
    temporal_tls_cert_path: Path | None = None
    temporal_tls_key_path: Path | None = None
    temporal_api_key: str | None = None
    # A private CA for a self-hosted cluster's server certificate (PEM); None = the system's roots.
    temporal_tls_server_ca_path: Path | None = None
    # The name the frontend's certificate is checked against when it differs from the host in
    # temporal_address (e.g. "temporal-frontend" behind a service address); None = that host. Any of
    # the certificate paths or this name turns TLS on (core/temporal.py tls_config).
    temporal_tls_server_name: str | None = None
    # The worker's Temporal SDK runtime metrics (Prometheus), e.g. "0.0.0.0:9464"; None = off.
    worker_metrics_address: str | None = None
    # On SIGTERM the worker stops polling and waits this long for activities in flight to finish.
    worker_graceful_shutdown_seconds: float = 30.0
    # A worker process runs Python on one core (the GIL): more tasks at once only make each slower,
    # and a workflow task past its 10 s timeout is thrown away and redone. In bench/worker_memory.py
    # a burst of 2,000 new applications on one worker with the SDK's default (100 workflow tasks)
    # timed out hundreds of first workflow tasks; 10 and 20 ran it with none. None = the SDK's default
    # (kept as the default until the limits have run under the whole test suite: one suite run with
    # them saw a burst of parallel updates aborted, see bench/RESULTS.md).
    worker_max_concurrent_workflow_tasks: int | None = Field(default=None, ge=1)
    worker_max_concurrent_activities: int | None = Field(default=None, ge=1)
    # Workflows a worker keeps in memory. A worker's RSS follows this, not the number open
    # (bench/worker_memory.py: 605 MiB with the SDK's default of 1,000, over the 600 MiB target of
    # issue 15; 460 MiB with 500 and 10,000 open, 314 MiB with 500 and 1,500 open once the sandboxes share the
    # workflow code, worker.py). An application not cached is replayed from its history when it next
    # gets a task (a timer, an update, a signal): a few ms each, paid by calendar publications reaching
    # more applications than the cache holds (bench/RESULTS.md).
    worker_max_cached_workflows: int = Field(default=500, ge=0)
    # OpenTelemetry traces go to this OTLP/HTTP endpoint (e.g. "http://otel-collector:4318"); None = not exported.
    otlp_endpoint: str | None = None
    log_level: str = "INFO"

    api_host: str = "127.0.0.1"
    api_port: int = 8000

    agency_name: str = "某市统计局"
    # Issue 25 (RULES §12): the installation's first agency on the platform; its code names it in URLs, forms and
    # numbers. Its name, prefixes, remedy bodies and payment channel are the settings below (copied into its agency
    # record at start: services/agencies.py); agencies added later carry their own (admin.py create-agency).
    agency_code: str = Field(default="main", pattern=r"^[a-z0-9][a-z0-9-]{1,19}$")
    agency_region: str = ""
    application_number_prefix: str = "GK"

    smtp_host: str = "127.0.0.1"
    smtp_port: int = 1025
    smtp_sender: str = "gkb@agency.example.gov.cn"
    smtp_timeout_seconds: float = 10.0
    # RULES §3 Service: the relay's acceptance is dispatch; receipt is the addressee's system's delivery report. The
    # agency's mail system posts every returned message (delivery report, bounce) to POST /api/v1/mail/returns with
    # this token (api/routes/mail_returns.py); unset: returns are not processed and e-mails are served only by a
    # download, a reply or staff's record.
    mail_returns_token: str | None = None
    # The envelope sender: where delivery reports and bounces go (default: smtp_sender).
    smtp_return_path: str | None = None
    # `make run` only: a local mail sink on smtp_host:smtp_port keeping every letter under data_dir/mail
    # (core/mailsink.py). None = automatic: on while no SMTP server is configured (runs_mail_sink).
    mail_sink: bool | None = None
    supervisor_email: str | None = None
    reminder_days_before_due: int = 3
    # Issue 11 point 7: the agency's reply period (seed 002 art. 16: "local" 15+15; Reg. 33: "national-2019"
    # 20+20), fixed on each application at intake; neither the applicant's form nor the desk chooses it,
    # and a change affects new applications only.
    reply_period_profile: Literal["local", "national-2019"] = "local"
    # Issue 24 point 10 (Reg. 30: 合理的补正期限): a supplement deadline gives at least this many working days from the
    # notice's receipt; a shorter one is refused with the reason. Fixed on each application at intake.
    supplement_min_working_days: int = Field(default=10, ge=1, le=60)
    # Remedies every letter names (Reg. 51; 行政复议法, 行政诉讼法): the agency's own bodies. None = not named.
    reconsideration_body: str | None = "某市人民政府"
    court: str | None = "某市某区人民法院"
    complaint_body: str | None = "上一级行政机关或者政府信息公开工作主管部门"
    # The 机关代字 of every 文号 (某统依公〔2026〕第12号): part of the letterhead. activities/letters.py reads the
    # same variable from the environment; it is here so that the example value is refused (issue 24 point 6).
    document_number_prefix: str = "某统"
    # Issue 24 point 1 (Reg. 42; 国办函〔2020〕109号 第七条: the fee notice states 缴纳方式): how an applicant pays the
    # information processing fee into the treasury (非税收入): a payment code (缴款码), an account, or a counter,
    # with the text the fee notice prints (the code, the account's name, number and bank, or the counter's address
    # and hours). Unset = no fee can be proposed (409 saying what to set).
    fee_payment_channel: Literal["payment-code", "account", "counter"] | None = None
    fee_payment_text: str | None = None
    # Issue 24 point 6: the embedded system (`make run`, run.py sets it; the tests) runs with the example values
    # above, marked "示例机关" on every page and letter. Without it the API and the worker refuse to start while the
    # agency's name, its 文号 letterhead, the remedy bodies or the payment channel are example values.
    example_agency: bool = False
    # 政务公开 (issue 13): seed 002 art. 13 counts 20 calendar days (default); Reg. 26 allows 20 working days.
    proactive_publication_working_days: bool = False
    # Corrections (Reg. 41; issue 13 point 4): the period, in working days, an agency setting; None (the
    # default) = the reply period of `reply_period_profile` (15, or 20 under national-2019). Fixed on each
    # correction at intake, like an application's period: a change affects new corrections only.
    correction_reply_days: int | None = Field(default=None, ge=1)
    # Public participation (issue 26; RULES §13), the agency's settings, fixed on each process at its start:
    # 在线咨询 answered within N working days; 意见收集和采纳情况 published within N days after the comment period
    # closes; whether a comment from the public must carry a name.
    inquiry_answer_working_days: int = Field(default=5, ge=1, le=60)
    participation_feedback_days: int = Field(default=30, ge=1, le=365)
    participation_comment_name_required: bool = False
    # A draft with very many comments continues as new once its run's history reaches this many events (its
    # state carried in the new run's input), so the history stays bounded (Temporal also suggests it earlier).
    participation_continue_after_events: int = Field(default=2000, ge=20, le=40_000)

    def correction_period(self) -> int:
        """The working days a correction registered now gets (Reg. 41 with the reply period's clock)."""
        if self.correction_reply_days is not None:
            return self.correction_reply_days
        return profile_named(self.reply_period_profile).reply_days
    # A receipt date older than this is almost always a typing error (2003 for 2026); a genuinely
    # late registration that old needs an administrator to raise the limit.
    max_receipt_age_days: int = 366
    # Every API process checks the database's published calendar years this often (one small query) and
    # reloads when another process published one (services/calendar.py); registration checks first anyway.
    calendar_refresh_seconds: float = Field(default=5.0, gt=0)
    # Letter PDFs rendered at once per process, by the worker's activities and by the API's previews
    # alike: rendering is CPU-bound, so more at once only makes each slower and the process larger.
    renders_at_once: int = Field(default=2, ge=1)

    # --- security (README "Security") ---------------------------------------------------------
    # HS256 key of staff access tokens (and, derived from it, of third-party links and query-code
    # hashes): at least 32 characters, required by the API. Only in the environment / .env.
    jwt_secret: SecretStr | None = None
    access_token_minutes: int = 15
    # Payload encryption keys for Temporal, "k2:<base64 32 bytes>,k1:<base64>": the first encrypts,
    # all decrypt (rotation: put the new key first, keep the old ones until their histories are gone).
    codec_keys: SecretStr | None = None
    # `make run` only: generate both secrets once into data_dir/dev-secrets.json.
    dev_secrets: bool = False
    # Where applicants and third parties reach the API (links in letters).
    public_base_url: str = "http://127.0.0.1:8000"
    # The Temporal UI's origins allowed to call the codec endpoints (comma-separated).
    codec_cors_origins: str = "http://localhost:8080,http://127.0.0.1:8233,http://localhost:8233"
    third_party_link_days: int = 20
    max_request_bytes: int = 1_048_576
    # Requests per minute per client address (in-process token buckets: per API replica).
    rate_limit_public_intake_per_minute: int = 10
    rate_limit_lookup_per_minute: int = 30
    rate_limit_login_per_minute: int = 20

    @field_validator(
        "temporal_tls_cert_path", "temporal_tls_key_path", "temporal_tls_server_ca_path", "temporal_tls_server_name",
        "temporal_api_key",
        "supervisor_email", "worker_metrics_address", "otlp_endpoint", "jwt_secret", "codec_keys", "mail_sink",
        "reconsideration_body", "court", "complaint_body", "fee_payment_channel", "fee_payment_text",
        mode="before",
    )
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        """`VAR=` in an environment file or `${VAR:-}` in docker-compose.yml means "not set" (not Path("."))."""
        return None if isinstance(value, str) and not value.strip() else value

    @model_validator(mode="after")
    def _dev_secrets(self) -> "Settings":
        """`DISCLOSURE_DEV_SECRETS=true` (make run): missing secrets come from a generated file under data_dir."""
        if not self.dev_secrets or (self.jwt_secret and self.codec_keys):
            return self
        path = self.data_dir / "dev-secrets.json"
        if path.exists():
            stored = json.loads(path.read_text(encoding="utf-8"))
        else:
            stored = {"jwt_secret": secrets.token_urlsafe(48),
                      "codec_keys": "dev1:" + base64.b64encode(secrets.token_bytes(32)).decode()}
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(stored), encoding="utf-8")
            os.chmod(path, 0o600)
        self.jwt_secret = self.jwt_secret or SecretStr(stored["jwt_secret"])
        self.codec_keys = self.codec_keys or SecretStr(stored["codec_keys"])
        return self

    @model_validator(mode="after")
    def _example_payment_channel(self) -> "Settings":
        """The embedded system's example payment channel, when none is set (marked, like every example value)."""
        if self.example_agency and self.fee_payment_channel is None and self.fee_payment_text is None:
            self.fee_payment_channel = "counter"
            self.fee_payment_text = EXAMPLE_PAYMENT_TEXT
        return self

    def example_values(self) -> list[str]:
        """The settings that still hold example values, each with what to fill in (issue 24 point 6)."""
        found = []
        for setting, what, value, required in (
            ("agency_name", "本机关名称（文书落款、页面抬头）", self.agency_name, True),
            ("document_number_prefix", "文号中的机关代字", self.document_number_prefix, True),
            ("reconsideration_body", "行政复议机关", self.reconsideration_body, True),
            ("court", "管辖的人民法院", self.court, True),
            ("fee_payment_text", "信息处理费缴纳方式", self.fee_payment_text, False),
        ):
            if (value is None and required) or (value is not None and is_example_value(value)):
                shown = "未设置" if value is None else f"仍为示例值「{value}」"
                found.append(f"DISCLOSURE_{setting.upper()}（{what}）{shown}")
        return found

    def marks_example(self) -> bool:
        """Pages and letters carry "示例机关": the embedded system running on example values."""
        return self.example_agency and bool(self.example_values())

    def refuse_example_values(self) -> None:
        """The API and the worker do not start on example values outside the embedded system (issue 24 point 6)."""
        if self.example_agency:
            return
        if found := self.example_values():
            raise RuntimeError("本机关的设置仍为示例值，不能对外办理（文书会以示例机关的名义发出）。请设置："
                               + "；".join(found) + "。仅在本机演示时可设 DISCLOSURE_EXAMPLE_AGENCY=true（页面和文书标明“示例机关”）。")

    def payment_channel_line(self) -> str | None:
        """The fee notice's 缴纳方式 sentence; None while the agency has not set its payment channel."""
        if not self.fee_payment_channel or not self.fee_payment_text or not self.fee_payment_text.strip():
            return None
        return f"{PAYMENT_CHANNELS[self.fee_payment_channel]}，{self.fee_payment_text.strip()}"

    def runs_mail_sink(self) -> bool:
        """run.py starts the mail sink unless DISCLOSURE_SMTP_HOST is set (environment or .env) or MAIL_SINK=false."""
        return self.mail_sink if self.mail_sink is not None else "smtp_host" not in self.model_fields_set

    @property
    def mail_dir(self) -> Path:
        return self.data_dir / "mail"

    def require_jwt_secret(self) -> bytes:
        value = self.jwt_secret.get_secret_value() if self.jwt_secret else ""
        if len(value) < 32:
            raise RuntimeError("DISCLOSURE_JWT_SECRET must be set (at least 32 characters); "
                               "e.g. python -c 'import secrets; print(secrets.token_urlsafe(48))'")
        return value.encode()


# Example values the shipped defaults use: "某市…", "某区…", anything saying 示例 or example.
EXAMPLE_MARKERS = ("某", "示例", "example")
EXAMPLE_PAYMENT_TEXT = "示例机关的缴费窗口（示例值，不得实际缴费）"
PAYMENT_CHANNELS = {"payment-code": "通过非税收入缴款码缴纳", "account": "汇入非税收入账户", "counter": "到缴费窗口缴纳"}
NO_PAYMENT_CHANNEL = ("本机关尚未设置信息处理费的缴纳方式，不能提出收费（缴费通知须写明缴纳方式，国办函〔2020〕109号）："
                      "请管理员设置 DISCLOSURE_FEE_PAYMENT_CHANNEL（payment-code 缴款码、account 账户或 counter 窗口）"
                      "和 DISCLOSURE_FEE_PAYMENT_TEXT（缴款码、账户名称账号开户行或窗口地址时间）")


def is_example_value(value: str) -> bool:
    return any(marker in value.lower() for marker in EXAMPLE_MARKERS)


@lru_cache
def get_settings() -> Settings:
    return Settings()
