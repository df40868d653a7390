"""Contracts: the messages shared by workflows, activities and pure rules (letters/, screening/).

Depends on nothing of ours except the pure `outcomes` vocabulary; never import activities/, db/,
api/ or workflows/ from here.
"""
