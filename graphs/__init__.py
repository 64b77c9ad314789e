"""networkx views of the kinship/ownership graph: path evidence and SVG subgraphs."""
