"""Public participation (RULES §13): periods for comment on a draft, feedback and 在线咨询 answers. Pure."""
