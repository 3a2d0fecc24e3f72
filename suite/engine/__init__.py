"""How runs train: the dataset as device tensors, the model, a stack of runs trained as one, the
epoch loop, the planner that trains each distinct run once, and the workbench that turns an
ablation's variants into stored records. Knows no pytest and no results file."""
