"""Unit tests of the newsletter rules, under plain CPython:
`cd components/qualifier-python && python3 -m unittest`."""

import unittest

from newsletter import Mail, Settings, body_text, bulk_sender, qualify

ME = "alice@caliopen.local"
TAGS = ["inbox", "spam", "important", "internal", "newsletter"]


def mail(**kw):
    base = dict(
        subject="Hello",
        participants=[("from", "bob@example.org"), ("to", ME)],
        body_plain="Hi Alice, lunch tomorrow?",
    )
    base.update(kw)
    return Mail(**base)


def newsletter_mail(**kw):
    base = dict(
        subject="Our November news",
        participants=[
            ("from", "newsletter@shop.example"),
            ("to", "subscribers@shop.example"),
            ("list-id", "news.shop.example"),
        ],
        body_html=(
            '<html><body><p>Big sale!</p><img src="https://t.shop.example/p.gif">'
            '<a href="https://shop.example/u">Unsubscribe</a> &middot; '
            "View this email in your browser</body></html>"
        ),
        has_remote_content=True,
        mail_agent="Mailchimp Mailer - **CID1234**",
    )
    base.update(kw)
    return Mail(**base)


def names(outcome):
    return [r.rule for r in outcome.rules]


class PersonalMail(unittest.TestCase):
    def test_a_personal_mail_fires_nothing(self):
        out = qualify(mail(), Settings(), [ME], TAGS)
        self.assertEqual(out.rules, [])
        self.assertEqual(out.add_tags, [])
        self.assertEqual(out.score, 0)

    def test_a_reply_on_a_list_is_a_discussion_not_a_newsletter(self):
        m = mail(
            participants=[("from", "bob@example.org"), ("to", "devel@lists.example"), ("list-id", "devel.lists.example")],
            parent_id="abc@example.org",
        )
        out = qualify(m, Settings(), [ME], TAGS)
        self.assertEqual(names(out), ["LIST_ID", "NOT_ADDRESSED_TO_USER", "REPLY"])
        self.assertEqual(out.score, 1.0)
        self.assertEqual(out.add_tags, [])


class Newsletters(unittest.TestCase):
    def test_a_typical_newsletter_is_tagged_with_every_rule_explained(self):
        out = qualify(newsletter_mail(), Settings(), [ME], TAGS)
        self.assertEqual(
            names(out),
            ["LIST_ID", "NOT_ADDRESSED_TO_USER", "REMOTE_CONTENT", "BULK_SENDER", "BULK_MAILER", "BULK_PHRASES"],
        )
        self.assertEqual(out.add_tags, ["newsletter"])
        self.assertAlmostEqual(out.score, 2 + 1 + 1 + 1 + 1.5 + 2)
        phrases = next(r for r in out.rules if r.rule == "BULK_PHRASES")
        self.assertEqual(phrases.contribution, 2.0)
        self.assertIn("unsubscribe", phrases.detail)
        self.assertIn("view this email in your browser", phrases.detail)
        self.assertIn("sent with mailchimp", next(r.detail for r in out.rules if r.rule == "BULK_MAILER"))
        self.assertEqual(
            out.summary(Settings()),
            "newsletter: score 8.5 (threshold 3.0), rules LIST_ID,NOT_ADDRESSED_TO_USER,"
            "REMOTE_CONTENT,BULK_SENDER,BULK_MAILER,BULK_PHRASES, tagged newsletter",
        )

    def test_not_tagged_when_the_user_has_no_such_tag_and_the_rule_says_why(self):
        out = qualify(newsletter_mail(), Settings(), [ME], ["inbox", "spam"])
        self.assertEqual(out.add_tags, [])
        self.assertEqual(out.rules[-1].rule, "NO_SUCH_TAG")
        self.assertEqual(out.rules[-1].contribution, 0)
        self.assertIn("has no such tag", out.rules[-1].detail)

    def test_not_tagged_when_the_tags_are_unavailable(self):
        out = qualify(newsletter_mail(), Settings(), [ME], None)
        self.assertEqual(out.add_tags, [])
        self.assertIn("unavailable", out.rules[-1].detail)

    def test_many_recipients(self):
        to = [("to", f"r{i}@example.org") for i in range(9)] + [("cc", ME)]
        out = qualify(mail(participants=[("from", "bob@example.org")] + to), Settings(), [ME], TAGS)
        self.assertEqual(names(out), ["MANY_RECIPIENTS"])
        self.assertEqual(out.rules[0].detail, "10 recipients")

    def test_french_phrases_in_plain_text(self):
        m = mail(body_plain="Pour vous désabonner : se désinscrire ici. Voir la version en ligne.")
        out = qualify(m, Settings(), [ME], TAGS)
        self.assertEqual(names(out), ["BULK_PHRASES"])
        self.assertEqual(out.rules[0].contribution, 2.0)

    def test_phrases_are_capped(self):
        body = "unsubscribe opt out manage your preferences email preferences you are receiving this"
        out = qualify(mail(body_plain=body), Settings(), [ME], TAGS)
        self.assertEqual(out.rules[0].contribution, 3.0)


class Config(unittest.TestCase):
    def test_defaults_without_config(self):
        s = Settings.from_config(lambda key: None)
        self.assertEqual((s.threshold, s.tag, s.many_recipients, s.max_phrases), (3.0, "newsletter", 10, 3))
        self.assertEqual(s.warnings, [])

    def test_keys_are_read_and_bad_values_reported(self):
        cfg = {"threshold": "1.5", "tag": " News ", "many_recipients": "x", "weight.LIST_ID": "0"}
        s = Settings.from_config(cfg.get)
        self.assertEqual((s.threshold, s.tag, s.many_recipients), (1.5, "news", 10))
        self.assertEqual(len(s.warnings), 1)
        self.assertIn("many_recipients", s.warnings[0])
        out = qualify(newsletter_mail(), s, [ME], TAGS + ["news"])
        self.assertNotIn("LIST_ID", names(out))
        self.assertEqual(out.add_tags, ["news"])

    def test_threshold_decides(self):
        s = Settings.from_config({"threshold": "100"}.get)
        self.assertEqual(qualify(newsletter_mail(), s, [ME], TAGS).add_tags, [])


class Helpers(unittest.TestCase):
    def test_bulk_senders(self):
        for a in ["noreply@x.org", "no-reply@x.org", "news+fr@x.org", "newsletter-weekly@x.org", "INFO@x.org"]:
            self.assertTrue(bulk_sender(a), a)
        for a in ["bob@x.org", "newsome@x.org", "information.desk@x.org"]:
            self.assertFalse(bulk_sender(a), a)

    def test_body_text_leaves_markup_out(self):
        m = Mail(body_html="<p>Se&nbsp;<b>DÉSABONNER</b></p>")
        self.assertEqual(body_text(m).strip(), "se désabonner")


if __name__ == "__main__":
    unittest.main()
