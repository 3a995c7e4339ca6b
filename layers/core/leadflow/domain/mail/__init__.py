"""Email composition, pure: render a template for a contact, add tracking and unsubscribe, build MIME.

``render`` (the sandboxed Jinja2 over the contact), ``html_text`` (a text part from HTML),
``links`` (click redirects, the open pixel, the unsubscribe footer), ``mime`` (the raw message
and its headers), ``compose`` (all of them for one flow email) and ``confirmation`` (the double
opt-in email). No AWS here: the SES adapter sends what ``compose`` returns.
"""
