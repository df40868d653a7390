"""The served-notice rules (notices/) and the reading of returned mail (letters/returns.py): pure, fixed dates."""

from datetime import date, datetime, timedelta, timezone

from core.mailsink import delivery_reports, parse_rules
from letters.returns import build_dsn, parse_return, unxtext, xtext
import notices
from workcalendar import WorkCalendar, load_calendar_data

CAL = WorkCalendar(load_calendar_data())
ORIGINAL = (b"From: gkb@agency.example.gov.cn\r\nTo: someone@example.cn\r\nSubject: =?utf-8?b?6KGl5q2j?=\r\n"
            b"Message-ID: <abc123@agency.example.gov.cn>\r\n\r\nbody\r\n")


def test_a_notice_runs_only_once_served_and_from_that_day():
    n = notices.new_notice("GK-2026-000001:fee", "缴费通知", 20)
    assert not notices.running(n) and "尚未发出" in notices.status_words(n)
    n = notices.dispatch(n, date(2026, 12, 1), "EMS1")
    assert not notices.running(n) and n.ends_on is None
    assert "已于 2026-12-01 发出" in notices.status_words(n) and "送达前期限不起算" in notices.status_words(n)
    assert notices.dispatch(n, date(2026, 12, 3)).dispatched_on == date(2026, 12, 1)  # the first dispatch stands
    served = notices.serve(n, CAL, date(2026, 12, 7), "post", "签收人 张三", "desk")
    # 20 working days from Monday 7 December 2026 (day 0): Monday 4 January 2027 (New Year's Day off).
    assert notices.running(served) and served.ends_on == CAL.add_workdays(date(2026, 12, 7), 20)[0]
    words = notices.status_words(served)
    assert words.startswith("缴费通知于 2026-12-07 送达（邮寄签收：签收人 张三）") and f"至 {served.ends_on} 止" in words


def test_public_notice_is_deemed_served_thirty_days_after_publication():
    n = notices.unservable(notices.new_notice("k", "征求意见函", 15), date(2026, 12, 10), "邮件被退回：查无此单位")
    assert "未能送达" in notices.status_words(n) and "公告送达" in notices.status_words(n)
    published = notices.publish(n, CAL, date(2026, 12, 11), "本机关门户网站", "desk")
    assert published.served_on == date(2027, 1, 10) and published.served_how == "public-notice"
    assert published.public_notice_on == date(2026, 12, 11)
    assert "视为送达" in notices.status_words(published)


def test_a_proof_is_refused_before_the_notice_was_made_or_in_the_future():
    n = notices.dispatch(notices.new_notice("k", "补正通知", 10), date(2026, 12, 3))
    today = date(2026, 12, 7)
    assert "至今天之间" in notices.why_not_serve(n, date(2026, 11, 30), today, date(2026, 12, 1))
    assert "至今天之间" in notices.why_not_serve(n, date(2026, 12, 8), today, date(2026, 12, 1))
    assert "不能早于" in notices.why_not_serve(n, date(2026, 12, 2), today, date(2026, 12, 1))
    assert notices.why_not_serve(n, date(2026, 12, 5), today, date(2026, 12, 1)) is None
    served = notices.serve(n, CAL, date(2026, 12, 5), "hand")
    assert "已登记" in notices.why_not_serve(served, date(2026, 12, 6), today, date(2026, 12, 1))


def test_xtext_round_trips_a_letter_key():
    for key in ("GK-2026-000123:supplement-2", "GK-2026-000123.consult-1:letter", "a+b=c d"):
        assert unxtext(xtext(key)) == key
    assert xtext("a+b=c d") == "a+2Bb+3Dc+20d"


def test_a_delivery_report_and_a_failure_are_read_with_their_letter_and_date():
    at = datetime(2026, 12, 7, 3, 0, tzinfo=timezone.utc)
    delivered = build_dsn(ORIGINAL, recipient="someone@example.cn", action="delivered", status="2.0.0", diagnostic="",
                          reporting_mta="mx.example.cn", at=at, return_to="gkb@agency.example.gov.cn",
                          envelope_id="GK-2026-000001:fee")
    [report] = parse_return(delivered)
    assert (report.action, report.recipient, report.status, report.at) == ("delivered", "someone@example.cn", "2.0.0", at)
    assert report.envelope_id == "GK-2026-000001:fee" and report.original_message_id == "<abc123@agency.example.gov.cn>"
    failed = build_dsn(ORIGINAL, recipient="someone@example.cn", action="failed", status="5.1.1",
                       diagnostic="550 5.1.1 User unknown", reporting_mta="mx.example.cn", at=at, return_to="x@y")
    [report] = parse_return(failed)
    assert report.action == "failed" and report.status == "5.1.1" and "User unknown" in report.diagnostic


def test_a_bounce_in_a_non_standard_format_is_read_by_flufl_bounce():
    qmail = (b"From: MAILER-DAEMON@mx.example.cn\r\nTo: gkb@agency.example.gov.cn\r\nSubject: failure notice\r\n"
             b"Date: Mon, 07 Dec 2026 11:00:00 +0800\r\n\r\n"
             b"Hi. This is the qmail-send program at mx.example.cn.\n"
             b"I'm afraid I wasn't able to deliver your message to the following addresses.\n"
             b"This is a permanent error; I've given up. Sorry it didn't work out.\n\n"
             b"<someone@example.cn>:\nSorry, no mailbox here by that name. (#5.1.1)\n\n"
             b"--- Below this line is a copy of the message.\n\n" + ORIGINAL)
    reports = parse_return(qmail)
    assert [(r.action, r.recipient) for r in reports] == [("failed", "someone@example.cn")]
    assert reports[0].at == datetime(2026, 12, 7, 11, 0, tzinfo=timezone(timedelta(hours=8)))


def test_the_sink_reports_each_recipient_by_its_rule_when_asked():
    class Envelope:
        mail_from = "gkb@agency.example.gov.cn"
        mail_options = ["RET=HDRS", "ENVID=GK-2026-000001:FEE"]
        rcpt_options = ["NOTIFY=SUCCESS,FAILURE,DELAY", "ORCPT=RFC822;A@B"]
        rcpt_tos = ["ok@example.cn", "gone@bounce.example.cn"]
        original_content = ORIGINAL

    rules = parse_rules("bounce:*@bounce.example.cn;defer:*@slow.example.cn")
    reports = [parse_return(r)[0] for r in delivery_reports(Envelope, rules=rules, reporting_mta="sink",
                                                            at=datetime(2026, 12, 7, tzinfo=timezone.utc))]
    assert [(r.recipient, r.action) for r in reports] == [("ok@example.cn", "delivered"),
                                                          ("gone@bounce.example.cn", "failed")]
    Envelope.rcpt_options = []  # no DSN asked for: none owed
    assert delivery_reports(Envelope, rules=rules, reporting_mta="sink", at=datetime(2026, 12, 7, tzinfo=timezone.utc)) == []
