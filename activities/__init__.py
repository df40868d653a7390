"""I/O: every activity the workflows run. The activity class lives in activities.disclosure.

Kept import-free. The contracts the workflows, activities and pure rules share live in contracts/ (issue 12
point 9), which depends on nothing of ours.
"""
