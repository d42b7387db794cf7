"""Network Dissection: label every unit of a layer with the concept its top activations match."""
