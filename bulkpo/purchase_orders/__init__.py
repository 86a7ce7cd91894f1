"""Purchase orders: the rules that turn checked rows into POs."""

from bulkpo.purchase_orders.rules import validate_purchase_orders

__all__ = ["validate_purchase_orders"]
