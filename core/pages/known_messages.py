"""Messages of the services that pages show as they are, listed so they get translated.

Services raise English (or bilingual) messages; a page passes them through gettext, so a
message listed here is shown in Swedish on Swedish pages. A message not listed is shown in
English, which is still clear. Plugins list theirs in their own ``pages.py``.
"""


def _(message: str) -> str:
    return message


KNOWN = [
    _("Wrong organization, e-mail or password."),
    _("Too many failed logins for this account. Wait 15 minutes or reset the password."),
    _("This reset link is invalid, used or expired. Ask for a new one."),
    _("This reset link has already been used."),
    _("The password must be at least 10 characters."),
    _("The password must be at most 256 characters."),
    _("The form was too old or came from another site. Reload the page and try again."),
    _("Log in first."),
    _("Only an administrator of the organization may do this."),
    _("This must not be empty."),
    _("This is not a valid phone number; write it like 070-123 45 67 or +46 70 123 45 67."),
    _("This is not an e-mail address; write it like name@example.se."),
    _("This account can no longer log in."),
    _("Write the 6 digits of the code in the SMS."),
    _("You are logged in."),
    _("This browser is remembered until %(date)s (%(days)s days); until then no SMS code is asked for here."),
    _("SMS code"),
    _('Save'),
    _('Name'),
    _('Edit'),
    _('Delete'),
    _('Cancel'),
    _('Search'),
    _('Kind'),
    _('All'),
    _('Status'),
    _('Number'),
    _('Title'),
    _('Actions'),
    _('Active'),
    _('Deleted'),
    _('Anonymized'),
    _('Notes'),
    _('E-mail'),
    _('Settings'),
    _('Mobile phone'),
    _('Private phone'),
    _('Work phone'),
    _('Found: %(num)d'),
    _('Open'),
    _('Closed'),
    _('Description'),
    _('Close'),
    _('Reopen'),
    _('Customer'),
    _('Created'),
    _('Show deleted'),
    _('New'),
    _('Back'),
    _('What happens to the personal data'),
    _('Leave empty to get the next free number.'),
    _('Phone'),
    _('Address'),
    _('Search by title or number'),
    _('Customer id'),
    _('Contact person id'),
    _('End customer'),
    _('Amount'),
]
