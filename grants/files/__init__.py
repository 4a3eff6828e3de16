"""Uploaded files (attachments, assessments): checked for size and type, stored once by
content hash under the ``grants.files_dir`` setting, served only to who may see what
they are attached to."""


def includeme(config):
    config.include(".views")
