"""Operations: the domain's rules and the store's queries put together, inside a caller's transaction."""
