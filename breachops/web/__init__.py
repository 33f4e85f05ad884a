"""The web console both parties use: sign-in by emailed link, the board, incidents, and a step's gate.

``links`` and ``secret`` are plain Python (the mail templates' links are made with them); FastAPI is
imported only by ``app`` and ``pages``.
"""
