"""설정, the center's settings in the console's own look: thin views, one module per section.

Every view is `settings_required` (masters and managers; agents get the refusal
page, 403) and looks objects up inside `request.member.center` (R1).
"""
