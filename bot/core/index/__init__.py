"""The customer index: the list read from Smart Passes (customer_list), its lookup tables
(snapshot) and search text (search_text), finding what a person typed (search), the index
that keeps it fresh (customer_index), and the child process that builds it off the
serving interpreter (builder)."""
