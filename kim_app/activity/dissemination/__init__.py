"""Information to spread (diseminasi): an operator sends an item to the KIM of an area or a field,
each KIM shares it with one tap (a WhatsApp hand-off with the prepared text) and says where and to
about how many people; the operator sees which KIM relayed it and the total reach. Its views
register on the activity blueprint."""
