use super::*;

fn flags(html: &str) -> (bool, bool, bool) {
    let f = safety(html);
    (f.has_scripts, f.has_remote_content, f.has_forms)
}

#[test]
fn plain_html_is_clean() {
    let html = "<html><head><style>p{color:red}</style></head><body>\
                <p class=x>Hello <a href=\"https://example.org/\">link</a></p>\
                <img src=\"cid:logo@x\" alt=\"logo\"><img src='data:image/png;base64,AAAA'>\
                <!-- <script>alert(1)</script> <img src=http://x/y> --></body></html>";
    assert_eq!(flags(html), (false, false, false));
}

#[test]
fn scripts() {
    assert_eq!(flags("<SCRIPT>alert(1)</SCRIPT>"), (true, false, false));
    assert_eq!(
        flags("<script src=\"https://evil.example/x.js\"></script>"),
        (true, true, false)
    );
    assert_eq!(flags("<body onload=\"go()\">"), (true, false, false));
    assert_eq!(flags("<div OnMouseOver='x()'>"), (true, false, false));
    assert_eq!(
        flags("<a href=\"javascript:alert(1)\">x</a>"),
        (true, false, false)
    );
    assert_eq!(
        flags("<a href=\" jav&#x09;ascript&colon;alert(1)\">x</a>"),
        (true, false, false)
    );
    assert_eq!(
        flags("<a href=\"&#106;avascript:alert(1)\">x</a>"),
        (true, false, false)
    );
    assert_eq!(flags("<a href=vbscript:msgbox>x</a>"), (true, false, false));
    assert_eq!(
        flags("<p style=\"width:expression(alert(1))\">"),
        (true, false, false)
    );
    assert_eq!(
        flags("<meta http-equiv=refresh content=\"0;url=javascript:alert(1)\">"),
        (true, false, false)
    );
    assert_eq!(
        flags("<iframe srcdoc=\"&lt;script&gt;x&lt;/script&gt;<script>x</script>\">"),
        (true, false, false)
    );
    assert_eq!(
        flags("<p title=\"javascript: the good parts\">"),
        (false, false, false)
    );
    assert_eq!(
        flags("<p>see <b>onload</b> and javascript: in text</p>"),
        (false, false, false)
    );
}

#[test]
fn remote_content() {
    assert_eq!(
        flags("<img src=\"http://t.example/p.gif\" width=1>"),
        (false, true, false)
    );
    assert_eq!(flags("<img src=//t.example/p.gif>"), (false, true, false));
    assert_eq!(
        flags("<td background=\"https://x.example/bg.jpg\">"),
        (false, true, false)
    );
    assert_eq!(
        flags("<img srcset=\"cid:a 1x, https://x.example/b.png 2x\">"),
        (false, true, false)
    );
    assert_eq!(
        flags("<link rel=stylesheet href=\"https://x.example/a.css\">"),
        (false, true, false)
    );
    assert_eq!(
        flags("<div style=\"background:url('https://x.example/a.png')\">"),
        (false, true, false)
    );
    assert_eq!(
        flags("<style>@import 'https://x.example/a.css';</style>"),
        (false, true, false)
    );
    assert_eq!(
        flags("<video poster=https://x.example/p.jpg>"),
        (false, true, false)
    );
    assert_eq!(
        flags("<object data=\"https://x.example/a.swf\">"),
        (false, true, false)
    );
    assert_eq!(
        flags("<svg><image href=\"https://x.example/a.png\"/></svg>"),
        (false, true, false)
    );
    assert_eq!(
        flags("<base href=\"https://x.example/\"><img src=\"a.png\">"),
        (false, true, false)
    );
    assert_eq!(
        flags("<img src=\"a.png\"><a href=\"http://x.example/\">x</a>"),
        (false, false, false)
    );
}

#[test]
fn forms() {
    assert_eq!(
        flags("<form action=\"https://x.example/login\"><input name=p></form>"),
        (false, false, true)
    );
    assert_eq!(
        flags("<textarea><img src=http://x.example/a.png></textarea>"),
        (false, false, true)
    );
    assert_eq!(
        flags("<button formaction=\"https://x.example/\">"),
        (false, false, true)
    );
}

#[test]
fn broken_markup_does_not_panic() {
    for html in [
        "<",
        "<img",
        "<img src=",
        "<img src=\"http://x",
        "<!--",
        "<script>",
        "<a b c=d e='",
        "<é src=http://x>",
        "<img src=\"h&#xffffffff;\">",
        "<p style='u\\'>",
    ] {
        let _ = safety(html);
    }
    assert_eq!(flags("<img src=\"http://x"), (false, true, false));
}

#[test]
fn entities() {
    assert_eq!(
        decode_entities("a&amp;b&#58;&#x3A;&colon;&bogus;&#;"),
        "a&b:::&bogus;&#;"
    );
}
