"""The agent console's views, one module per pane: list, chat, details, assist (Q&A, templates, favorites)."""
