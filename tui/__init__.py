"""The Textual dashboard (started by cli/main.py). The only package that imports textual."""
