"""The agent console's views, one module per pane: list, chat, details, assist (Q&A, templates, favorites); and
what live updates use: `updates` (what they fetch), `stream` (the Server-Sent Events stream), `files` (downloads)."""
