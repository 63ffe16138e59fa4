"""Where merchants and agents reach posbot: Telegram (polling or webhook) and the terminal.

Each channel turns its own input into the conversation service's `Incoming` and delivers what the
service decided; none of them holds conversation logic.
"""
