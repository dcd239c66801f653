"""The agent console's views, one module per pane: list, chat, details, assist (Q&A, templates, favorites); for the
live updates `updates` (what they fetch) and `stream` (the Server-Sent Events stream); `files`, members' downloads."""
