"""One service layer for every face of arbx (the CLI views and steering commands, Telegram control): each function
reads or changes the system once, through the storage repositories and the execution layer, and returns plain data
(JSON-ready dicts) that the faces only render."""
