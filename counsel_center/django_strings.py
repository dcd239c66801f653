"""Django's own strings that its Korean catalogue leaves untranslated, translated in ours.

Our catalogue (LOCALE_PATHS, locale/ko/LC_MESSAGES/django.po) wins over
Django's for the same msgid. Marked here with gettext_noop only so that
`make messages` keeps them in our catalogue; Django itself translates them
where it shows them. counsel_center/tests/test_admin_look.py checks each one
reads in Korean. Drop a string once Django's own catalogue has it.
"""

from django.utils.translation import gettext_noop

UNTRANSLATED_IN_DJANGO_KO: tuple[str, ...] = (
    # Django 6's blank choice (django.db.models.fields.BLANK_CHOICE_LABEL): the admin's action menu
    # and every select of a foreign key or of choices.
    gettext_noop("- Select an option -"),
)
